/* kmsd_body.h - reading the body of a FastCGI request (FCGI_STDIN), for
 * kmsd's workers and the benchmark's null responder (bench/), so that the
 * baseline reads bodies exactly as kmsd does.
 *
 * Owns: the two loops; the caps are the caller's.
 */
#ifndef MK_FCGI_KMSD_BODY_H
#define MK_FCGI_KMSD_BODY_H

#include <fcgiapp.h>
#include <stddef.h>
#include <stdint.h>

/* Read at most cap bytes of FCGI_STDIN, whatever CONTENT_LENGTH says; the
 * FastCGI stream ends where the web server ended the body. */
size_t kmsd_body_read(FCGX_Stream *in, uint8_t *buf, size_t cap);

/* Throw away the rest of an oversized body, at most max bytes. */
void kmsd_body_drain(FCGX_Stream *in, size_t max);

#endif
