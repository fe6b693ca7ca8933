/* gpu_models.h - GPU model names as markets write them, mapped to one
 * canonical model with its family, memory and US export-control class.
 *
 * The table is fixtures/gpus.json (format and sources in docs/VOLUME.md),
 * compiled into the library (scripts/embed-data.sh) so the binary needs no
 * data file at run time; gl_gpu_models_load_file reads another.  Matching
 * ignores case and every character that is not a letter or digit, and a
 * leading "nvidia": "NVIDIA H100 80GB HBM3" and "h100-80gb-hbm3" are one
 * name.  A name the table does not know is never guessed: lookups return
 * NULL and callers keep the name as written.
 *
 * Ownership: a gl_gpu_models is immutable after loading; gl_gpu_models_free
 * releases it.  No global state.
 */
#ifndef GPULEDGER_GPU_MODELS_H
#define GPULEDGER_GPU_MODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "gpuledger/err.h"

#define GL_GPUS_FORMAT "gpuledger-gpus/1"

typedef struct gl_gpu_model {
    const char *canonical;  /* "H100-SXM-80GB" */
    const char *family;     /* "H100": what `concentration --class` names */
    const char *vendor;
    unsigned memory_gb;     /* 0 when the name does not say */
    const char *eccn;       /* the class: "3A090.a", "licence-2025", "not-listed", ... */
    bool controlled;        /* the class's "controlled" */
} gl_gpu_model;

typedef struct gl_gpu_models gl_gpu_models;

/* The built-in table (fixtures/gpus.json as compiled in). */
gl_code gl_gpu_models_builtin(gl_gpu_models **out, gl_err *err);
/* Parse a table; GL_EINVAL naming origin and the JSON path on a bad one. */
gl_code gl_gpu_models_load_text(gl_gpu_models **out, const char *text, const char *origin, gl_err *err);
gl_code gl_gpu_models_load_file(gl_gpu_models **out, const char *path, gl_err *err);
void gl_gpu_models_free(gl_gpu_models *m);

/* The model a name denotes, NULL when unknown (or name NULL/empty). */
const gl_gpu_model *gl_gpu_models_lookup(const gl_gpu_models *m, const char *name);
/* Models in table order: index i < count. */
size_t gl_gpu_models_count(const gl_gpu_models *m);
const gl_gpu_model *gl_gpu_models_at(const gl_gpu_models *m, size_t i);
/* The text of fixtures/gpus.json as compiled in. */
const char *gl_gpu_models_builtin_text(void);

#endif
