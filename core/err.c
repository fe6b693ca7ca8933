/* err.c - error records with a fixed message buffer (see err.h). */
#include <stdio.h>
#include <string.h>

#include "gpuledger/err.h"

gl_code gl_err_set(gl_err *err, gl_code code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

gl_code gl_err_prefix(gl_err *err, const char *fmt, ...)
{
    if (!err)
        return GL_OK;
    char old[GL_ERR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof err->msg)
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, "%s", old);
    return err->code;
}

void gl_err_clear(gl_err *err)
{
    if (err) {
        err->code = GL_OK;
        err->msg[0] = '\0';
    }
}

const char *gl_code_name(gl_code code)
{
    switch (code) {
    case GL_OK: return "ok";
    case GL_EINVAL: return "invalid input";
    case GL_ENOMEM: return "out of memory";
    case GL_ERANGE: return "out of range";
    case GL_EIO: return "i/o error";
    case GL_ERPC: return "rpc error";
    case GL_EDB: return "store error";
    case GL_EVERIFY: return "verification failed";
    case GL_ENOTSUP: return "not supported";
    case GL_ECANCELED: return "stopped on request";
    }
    return "unknown error";
}
