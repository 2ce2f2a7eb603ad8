#ifndef VIGIL_CGNUTLS_SHIM_H
#define VIGIL_CGNUTLS_SHIM_H
#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
/* gnutls_free is a variable or a macro depending on the version; one function for Swift. */
static inline void vigil_gnutls_free(void *p) { gnutls_free(p); }
#endif
