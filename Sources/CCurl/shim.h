#ifndef VIGIL_CCURL_SHIM_H
#define VIGIL_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt and curl_easy_getinfo are variadic; Swift calls these instead, one per
   argument type. */
typedef size_t (*vigil_curl_data_fn)(char *data, size_t size, size_t count, void *context);
typedef int (*vigil_curl_progress_fn)(void *context, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode vigil_curl_set_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_set_text(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_set_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_set_list(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode vigil_curl_set_data_fn(CURL *h, CURLoption o, vigil_curl_data_fn f) { return curl_easy_setopt(h, o, f); }
static inline CURLcode vigil_curl_set_progress_fn(CURL *h, vigil_curl_progress_fn f) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }
/* The body is copied by libcurl, so the caller's buffer may go at once. */
static inline CURLcode vigil_curl_set_body(CURL *h, const void *body, long size) {
    CURLcode c = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, size);
    return c != CURLE_OK ? c : curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
}
static inline long vigil_curl_status(CURL *h) { long s = 0; curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &s); return s; }
#endif
