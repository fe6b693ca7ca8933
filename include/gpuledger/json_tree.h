/* json_tree.h - a JSON answer read into a jansson tree, fast.
 *
 * A full block with its transactions is hundreds of kilobytes of hex
 * strings; jansson's lexer reads them a byte at a time and was 12% of the
 * indexer's CPU at the default verification level (bench/RESULTS.md).  The
 * answers' plain shape goes through json_scan.h's scanner instead, and the
 * tree is built from its events; anything the scanner does not take (an
 * escape, a non-ASCII byte, a real number, an integer beyond 64 bits, a
 * scalar at the top, malformed text) is read by json_loadb as before, so
 * the tree, the errors and their messages are jansson's own.
 */
#ifndef GPULEDGER_JSON_TREE_H
#define GPULEDGER_JSON_TREE_H

#include <stddef.h>

#include <jansson.h>

/* As json_loadb(p, n, flags, je) (flags: jansson's decoding flags), with
 * the same result for every input. */
json_t *gl_json_tree_load(const char *p, size_t n, size_t flags, json_error_t *je);

#endif
