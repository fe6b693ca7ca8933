/* fuzz.h - what every libFuzzer target here shares: libFuzzer's entry
 * point and CHECK, the oracle's verdict (a failed check traps, which
 * libFuzzer reports with the input that broke it; docs/FUZZ.md). */
#ifndef GPULEDGER_FUZZ_H
#define GPULEDGER_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                             \
    do {                                                                                                     \
        if (!(c))                                                                                            \
            __builtin_trap();                                                                                \
    } while (0)

#endif
