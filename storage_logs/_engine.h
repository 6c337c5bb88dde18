/* Shared declarations of the storage log engine (storage_logs/_engine*.c): the record layout, spans and
 * buffers, hash maps, and the helpers the parsers and the emitter share. The record positions, formats
 * and sample counts are defined in Python (storage_logs/parse.py, storage_logs/aggregate.py); the module
 * exports the values compiled here and aggregate.py checks them at import. */
#ifndef ASCMON_ENGINE_H
#define ASCMON_ENGINE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { VER, TIME, DATE, HH, MM, OP, STATUS, HTTP, HCLASS, E2E, SRV, AUTH, REQUESTER, SIG, CONTAINER,
       OBJECT, RID, OPC, IP, REQ, RESP, UA, OID, APPID, UPN, WIDTH };
enum { FMT_CLASSIC = 0, FMT_CLEAN = 1, FMT_JSON = 2 };
#define NKINDS 4
#define SAMPLES 3
#define SAMPLE_IDS 2
#define MAX_DIGITS 18

typedef struct { const char *p; Py_ssize_t n; } Span;

/* ---- a growable byte buffer */
typedef struct { char *p; size_t n, cap; } Buf;
int buf_reserve(Buf *b, size_t n);
int buf_put(Buf *b, const void *data, size_t n);
static inline int buf_str(Buf *b, const char *s) { return buf_put(b, s, strlen(s)); }
static inline int buf_byte(Buf *b, char c) { return buf_put(b, &c, 1); }
static inline int checked_add64(int64_t *total, int64_t value) { return __builtin_add_overflow(*total, value, total); }

/* ---- hashing */
uint64_t hash_with(uint64_t seed, const char *p, size_t n);
extern uint64_t hash_seed; /* per process: crafted field values cannot aim at one bucket */
#define DIGEST_SEED 0x6173636d6f6e3031ULL /* the same in every process and release: digests are stored */
static inline uint64_t request_digest(const char *p, size_t n) { return hash_with(DIGEST_SEED, p, n); }
void sha256(const void *data, size_t n, uint8_t out[32]);

/* ---- a byte-keyed map to int32 values; keys copied into an arena freed with the map */
typedef struct { uint64_t hash; const char *key; uint32_t len; int32_t val; } Slot; /* val: value + 1 */
typedef struct Block { struct Block *next; size_t used, cap; char data[]; } Block;
typedef struct { Slot *slots; size_t cap, used; Block *arena; } Map;
int map_init(Map *m, size_t cap);
void map_free(Map *m);
/* The value under key (>= 0); -1 when absent and newval < 0; else inserts a copy of the key with newval
 * and returns it (*inserted = 1); -2 when out of memory. */
int32_t map_get(Map *m, const char *key, uint32_t len, int32_t newval, int *inserted);
/* map_get that also gives where the map keeps its copy of the key */
int32_t map_put(Map *m, const char *key, uint32_t len, int32_t newval, int *inserted, const char **stored);
char *arena_alloc(Block **arena, size_t n);
void arena_free(Block **arena);

/* ---- a set of 64-bit digests (0 is stored apart) */
typedef struct { uint64_t *slots; size_t cap, used; int has_zero; } U64Set;
int u64set_init(U64Set *s, size_t cap);
void u64set_free(U64Set *s);
/* 1 when added, 0 when present, -1 when out of memory */
int u64set_add(U64Set *s, uint64_t v);
int u64set_has(const U64Set *s, uint64_t v);
static inline size_t u64set_size(const U64Set *s) { return s->used + s->has_zero; }

/* ---- text */
#define ISDIGIT(c) ((unsigned char)((c) - '0') < 10)
#define ISALPHA(c) ((unsigned char)(((c) | 0x20) - 'a') < 26)
int ascii_only(const char *p, Py_ssize_t n);
int utf8_valid(const char *p, Py_ssize_t n);
int64_t to_int(Span s, int *ok);
int real_time(const char *d, const char *hh, const char *mm);
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
/* "YYYY-MM-DDTHH:MM:SS[.f{1,7}][Z]" (T or space; a "+00"/"+00:00" suffix is read as UTC) into
 * microseconds since 1970, fractions truncated as Python's fromisoformat(text[:26]) does; 0 when not. */
int parse_time_us(Span t, int64_t *us);

/* HTML entities as html.unescape reads them: entity_at gives the length of a decoded entity at p (*value
 * its character), 0 for a literal '&', -1 when only Python decodes it the same way. html_unescape_fast
 * decodes s into out: 1, or 0 when Python must, -1 when out of memory. */
int entity_at(const char *p, const char *e, char *value);
int html_unescape_fast(Span s, Buf *out);
const char *const *legacy_entities(void);
/* parse.redact on b's bytes: a sig= value other than XXXXX becomes XXXXX; -1 when out of memory */
int redact_signatures(Buf *b);
/* where "sig=" (any case) first appears in p[0..n), or NULL */
const char *find_signature(const char *p, size_t n);

/* ---- the parsers (_engine_parse.c): 1 when the line is of the usual shape and f[] is filled */
int parse_classic(const char *s, const char *e, Span *f);
int parse_clean(const char *s, const char *e, Span *f);
int parse_json(const char *s, const char *e, Span *f, Buf *scratch);
/* JSON readers shared with the emitter (stored rows) */
typedef struct { const char *p, *e; } J;
void j_ws(J *j);
int j_string(J *j, Span *out, int *plain);
int j_decode(Span raw, Buf *b, Span *out);

/* ---- SAS identities (_engine_parse.c) */
/* The token's visible fields of a classic log URL query (as written, HTML-encoded), sorted and joined as
 * "k=v&k=v", into out; 0 when the query holds something only Python reads the same way. */
int sas_fields(Span query, Buf *out);

#endif
