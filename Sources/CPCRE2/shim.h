#ifndef VIGIL_CPCRE2_SHIM_H
#define VIGIL_CPCRE2_SHIM_H
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
/* The 8-bit names are macros over width-suffixed functions; Swift calls these instead. */
static inline pcre2_code_8 *vigil_pcre2_compile(const unsigned char *p, size_t n, uint32_t options, int *error, size_t *offset) {
    return pcre2_compile_8(p, n, options, error, offset, NULL);
}
static inline int vigil_pcre2_jit(pcre2_code_8 *c) { return pcre2_jit_compile_8(c, PCRE2_JIT_COMPLETE); }
static inline void vigil_pcre2_free(pcre2_code_8 *c) { pcre2_code_free_8(c); }
static inline int vigil_pcre2_error(int code, unsigned char *buf, size_t n) { return pcre2_get_error_message_8(code, buf, n); }
/* One match from `start`: 1 and the byte range in *from..*to, 0 for none, or a PCRE2 error (< 0). */
static inline int vigil_pcre2_match(const pcre2_code_8 *c, const unsigned char *s, size_t n, size_t start, int jit, size_t *from, size_t *to) {
    pcre2_match_data_8 *m = pcre2_match_data_create_8(1, NULL);
    if (!m) return PCRE2_ERROR_NOMEMORY;
    int rc = pcre2_match_8(c, s, n, start, PCRE2_NO_UTF_CHECK | (jit ? 0 : PCRE2_NO_JIT), m, NULL);
    if (rc >= 0) { PCRE2_SIZE *o = pcre2_get_ovector_pointer_8(m); *from = o[0]; *to = o[1]; rc = 1; }
    else if (rc == PCRE2_ERROR_NOMATCH) rc = 0;
    pcre2_match_data_free_8(m);
    return rc;
}
static inline uint32_t vigil_pcre2_utf(void) { return PCRE2_UTF | PCRE2_UCP; }
static inline uint32_t vigil_pcre2_caseless(void) { return PCRE2_CASELESS; }
static inline uint32_t vigil_pcre2_whole(void) { return PCRE2_ANCHORED | PCRE2_ENDANCHORED; }
#endif
