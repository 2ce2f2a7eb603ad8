#ifndef VIGIL_CHINTS_SHIM_H
#define VIGIL_CHINTS_SHIM_H
/* CPU hints Swift has no spelling for. Header only: nothing to link. */

/* Asks the CPU to start loading the cache line at `p` for reading (no fault if unmapped). */
static inline void vigil_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
