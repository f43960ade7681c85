/* tool_json.h - the JSON string of the tools' --json output (mikeydump,
 * mikey-ue, kmsctl's records): RFC 8259 §7, every byte outside printable
 * ASCII escaped as \u00XX so that a line is valid JSON whatever the bytes
 * are. Printed on stdout. */
#ifndef MK_TOOLS_TOOL_JSON_H
#define MK_TOOLS_TOOL_JSON_H

#include <stddef.h>
#include <stdint.h>

void tool_json_str(const uint8_t *p, size_t n);

#endif
