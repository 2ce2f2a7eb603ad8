#ifndef VIGIL_CJANSSON_SHIM_H
#define VIGIL_CJANSSON_SHIM_H
#include <jansson.h>
/* json_typeof and json_decref are macros or inline functions; Swift calls these instead. */
static inline int vigil_json_type(const json_t *j) { return (int)json_typeof(j); }
static inline void vigil_json_release(json_t *j) { json_decref(j); }
static inline int vigil_json_flags(void) { return JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL; }
#endif
