/* The storage log engine's inner loop: classic, Azure Monitor JSON and CSV-clean lines parsed and
 * aggregated in C.
 *
 * Semantics live in Python (storage_logs/parse.py and storage_logs/aggregate.py); this file makes them
 * fast. `Engine.feed(data, fmt, fallback)` walks whole lines of a bytes chunk. A line the C parser accepts
 * is one the Python fast regex (parse.FAST / parse.CLEAN) would match with the same captures, or for JSON
 * one that parse.monitor_record reads to the same record: the C parser follows the first-choice path and
 * gives up on anything else (non-ASCII digits, an IPv6 address, a 19-digit number, a float, a quirk it
 * does not follow), handing the line to `fallback`, the Python parser, which returns a record tuple or
 * None (rejected and counted there). Records from Python (`add_records`) and
 * lines parsed here take the same aggregation path below, so there is one implementation of "the same".
 *
 * Aggregation: a policy per kind (read, write, delete, other) gives the record positions of the group key
 * and the window width; a group keeps count, first/last time, sums/min/max of four numbers, status counts,
 * its distinct objects, and its first two request ids. A line whose (request id, operation count) was
 * already seen in the same kind and window is a repeat: counted apart, never aggregated. Groups and the
 * repeat sets of a window are freed when the window is closed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { VER, TIME, DATE, HH, MM, OP, STATUS, HTTP, HCLASS, E2E, SRV, AUTH, REQUESTER, SIG, CONTAINER,
       OBJECT, RID, OPC, IP, REQ, RESP, UA, OID, APPID, UPN, WIDTH };
enum { FMT_CLASSIC = 0, FMT_CLEAN = 1, FMT_JSON = 2 };
#define NKINDS 4
#define SAMPLES 3
#define SAMPLE_IDS 2
#define MAX_DIGITS 18

typedef struct { const char *p; Py_ssize_t n; } Span;

/* ---------------------------------------------------------------- hashing and a byte-keyed map */

static uint64_t hash_seed = 0x243F6A8885A308D3ULL;

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}

/* 128-bit multiply, folded: one multiplication hashes 16 bytes (the idea of wyhash) */
static inline uint64_t mum(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t read64(const char *p) {
    uint64_t k;
    memcpy(&k, p, 8);
    return k;
}

static uint64_t hash_with(uint64_t seed, const char *p, size_t n) {
    const uint64_t s1 = 0xa0761d6478bd642fULL, s2 = 0xe7037ed1a0b428dbULL;
    uint64_t h = seed ^ mix64(n);
    while (n >= 16) {
        h = mum(read64(p) ^ s1, read64(p + 8) ^ h);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = read64(p);
        memcpy(&b, p + 8, n - 8);
    } else {
        memcpy(&a, p, n);
    }
    return mix64(mum(a ^ s2, b ^ h ^ n));
}

static uint64_t hash_bytes(const char *p, size_t n) { return hash_with(hash_seed, p, n); }

/* The same in every process and release: request digests are stored (SeenRequests). */
#define DIGEST_SEED 0x6173636d6f6e3031ULL
static uint64_t request_digest(const char *p, size_t n) { return hash_with(DIGEST_SEED, p, n); }

typedef struct { uint64_t hash; char *key; uint32_t len; int32_t val; } Slot; /* val: value + 1; 0 = empty */

/* Keys of one map can come from an arena: blocks freed together with the map, no malloc per key. */
typedef struct Block { struct Block *next; size_t used, cap; char data[]; } Block;

typedef struct { Slot *slots; size_t cap, used; Block *arena; int use_arena; } Map;

static char *arena_alloc(Map *m, size_t n) {
    Block *b = m->arena;
    if (!b || b->used + n > b->cap) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof(Block) + cap);
        if (!b) return NULL;
        b->next = m->arena;
        b->used = 0;
        b->cap = cap;
        m->arena = b;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

static int map_init(Map *m, size_t cap) {
    m->slots = calloc(cap, sizeof(Slot));
    m->cap = cap;
    m->used = 0;
    m->arena = NULL;
    m->use_arena = 0;
    return m->slots ? 0 : -1;
}

static void map_free(Map *m, int keys) {
    if (!m->slots) return;
    if (m->use_arena)
        while (m->arena) {
            Block *next = m->arena->next;
            free(m->arena);
            m->arena = next;
        }
    else if (keys)
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].val) free(m->slots[i].key);
    free(m->slots);
    m->slots = NULL;
    m->cap = m->used = 0;
}

static void map_place(Slot *slots, size_t cap, Slot s) {
    size_t i = s.hash & (cap - 1);
    while (slots[i].val) i = (i + 1) & (cap - 1);
    slots[i] = s;
}

static int map_grow(Map *m) {
    size_t cap = m->cap * 2;
    Slot *slots = calloc(cap, sizeof(Slot));
    if (!slots) return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].val) map_place(slots, cap, m->slots[i]);
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* The value stored under key (>= 0), or -1 when absent and not inserted (newval < 0), or the new value
 * after inserting a copy of the key; -2 when out of memory. */
static int32_t map_get(Map *m, const char *key, uint32_t len, int32_t newval, int *inserted) {
    uint64_t h = hash_bytes(key, len);
    size_t i = h & (m->cap - 1);
    *inserted = 0;
    while (m->slots[i].val) {
        Slot *s = &m->slots[i];
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return s->val - 1;
        i = (i + 1) & (m->cap - 1);
    }
    if (newval < 0) return -1;
    if ((m->used + 1) * 4 > m->cap * 3) {
        if (map_grow(m) < 0) return -2;
        return map_get(m, key, len, newval, inserted);
    }
    char *copy = m->use_arena ? arena_alloc(m, len) : malloc(len ? len : 1);
    if (!copy) return -2;
    memcpy(copy, key, len);
    m->slots[i] = (Slot){h, copy, len, newval + 1};
    m->used++;
    *inserted = 1;
    return newval;
}

/* ---------------------------------------------------------------- a growable byte buffer */

typedef struct { char *p; size_t n, cap; } Buf;

/* room for n more bytes */
static int buf_reserve(Buf *b, size_t n) {
    if (b->n + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_put(Buf *b, const void *data, size_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return 0;
}

/* after buf_reserve: a length-prefixed span */
static inline void buf_span_fast(Buf *b, Span s) {
    uint32_t len = (uint32_t)s.n;
    memcpy(b->p + b->n, &len, sizeof len);
    memcpy(b->p + b->n + sizeof len, s.p, s.n);
    b->n += sizeof len + s.n;
}

/* ---------------------------------------------------------------- the classic and clean parsers */

#define ISDIGIT(c) ((unsigned char)((c) - '0') < 10)
#define ISALPHA(c) ((unsigned char)(((c) | 0x20) - 'a') < 26)

typedef struct { const char *p, *e; } Cur;

static int has_byte(const char *p, Py_ssize_t n, char c) { return n > 0 && memchr(p, c, n) != NULL; }

/* The first of bytes a, b or c in [p, e), or e: 16 bytes per step where SSE2 is there (every x86-64). */
static inline __attribute__((always_inline)) const char *find3(const char *p, const char *e, char a, char b,
                                                                char c) {
#ifdef __SSE2__
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);
    while (e - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)p);
        int mask = _mm_movemask_epi8(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)), _mm_cmpeq_epi8(x, vc)));
        if (mask) return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    while (p < e && *p != a && *p != b && *p != c) p++;
    return p;
}

/* the first quote in [p, e), or NULL */
static inline __attribute__((always_inline)) const char *find_quote(const char *p, const char *e) {
    const char *q = find3(p, e, '"', '"', '"');
    return q < e ? q : NULL;
}

static int ascii_only(const char *p, Py_ssize_t n) {
    uint64_t high = 0;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) high |= read64(p + i);
    for (; i < n; i++) high |= (unsigned char)p[i];
    return !(high & 0x8080808080808080ULL);
}

/* [^;\n]* (or [^;"\n]* when noquote) then the separator */
static inline __attribute__((always_inline)) int f_plain(Cur *c, Span *out, int noquote, char sep) {
    const char *q = noquote ? find3(c->p, c->e, sep, '"', sep) : find3(c->p, c->e, sep, sep, sep);
    if (q == c->e || *q != sep) return 0;
    if (out) *out = (Span){c->p, q - c->p};
    c->p = q + 1;
    return 1;
}

/* \d+ (atleast 1) or \d* then the separator; ASCII digits only, at most MAX_DIGITS */
static inline __attribute__((always_inline)) int f_digits(Cur *c, Span *out, int atleast, char sep) {
    const char *s = c->p;
    while (c->p < c->e && ISDIGIT(*c->p)) c->p++;
    Py_ssize_t n = c->p - s;
    if (n < atleast || n > MAX_DIGITS || c->p >= c->e || *c->p != sep) return 0;
    if (out) *out = (Span){s, n};
    c->p++;
    return 1;
}

/* [a-z]*; */
static inline __attribute__((always_inline)) int f_lower(Cur *c, Span *out) {
    const char *s = c->p;
    while (c->p < c->e && (unsigned char)(*c->p - 'a') < 26) c->p++;
    if (c->p >= c->e || *c->p != ';') return 0;
    if (out) *out = (Span){s, c->p - s};
    c->p++;
    return 1;
}

/* (?:"([^"\n]*)")? followed by ';', or by the end of the line (an optional \r first) when last */
static inline __attribute__((always_inline)) int f_quoted(Cur *c, Span *out, int last) {
    const char *p = c->p;
    Span inner = {p, 0};
    if (p < c->e && *p == '"') {
        const char *q = find_quote(p + 1, c->e);
        if (!q) return 0;
        inner = (Span){p + 1, q - p - 1};
        p = q + 1;
    }
    if (last) {
        if (p < c->e && *p == '\r') p++;
        if (p != c->e) return 0;
    } else {
        if (p >= c->e || *p != ';') return 0;
        p++;
    }
    if (out) *out = inner;
    c->p = p;
    return 1;
}

static int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

/* YYYY-MM-DD, HH and MM (digits already checked) name a real minute */
static int real_time(const char *d, const char *hh, const char *mm) {
    int year = two(d) * 100 + two(d + 2), month = two(d + 5), day = two(d + 8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= mdays[month - 1] &&
           !(month == 2 && day == 29 && !leap) && two(hh) <= 23 && two(mm) <= 59;
}

/* (\d{4}-\d\d-\d\d)T(\d\d):(\d\d)[^;\n]* then sep, a real time; ASCII only (times are compared as bytes) */
static inline __attribute__((always_inline)) int f_time(Cur *c, Span *f, char sep) {
    const char *p = c->p;
    if (c->e - p < 16) return 0;
    static const char shape[] = "dddd-dd-ddTdd:dd";
    for (int i = 0; i < 16; i++)
        if (shape[i] == 'd' ? !ISDIGIT(p[i]) : p[i] != shape[i]) return 0;
    /* lines come in time order: most repeat the minute validated last (the GIL guards these) */
    static char last[16];
    static int last_ok = 0;
    if (!last_ok || memcmp(p, last, 16) != 0) {
        if (!real_time(p, p + 11, p + 14)) return 0;
        memcpy(last, p, 16);
        last_ok = 1;
    }
    Span t;
    if (!f_plain(c, &t, 0, sep) || !ascii_only(t.p, t.n)) return 0;
    f[TIME] = t;
    f[DATE] = (Span){p, 10};
    f[HH] = (Span){p + 11, 2};
    f[MM] = (Span){p + 14, 2};
    return 1;
}

/* ((\d)\d\d|[^;\n]*) then sep; HCLASS is the first digit of a three-digit code */
static inline __attribute__((always_inline)) int f_http(Cur *c, Span *f, char sep) {
    Span h;
    if (!f_plain(c, &h, 0, sep) || !ascii_only(h.p, h.n)) return 0;
    f[HTTP] = h;
    f[HCLASS] = (h.n == 3 && ISDIGIT(h.p[0]) && ISDIGIT(h.p[1]) && ISDIGIT(h.p[2])) ? (Span){h.p, 1}
                                                                                   : (Span){h.p, 0};
    return 1;
}

static int parse_classic(const char *s, const char *e, Span *f) {
    Cur c = {s, e};
    if (e - s < 4 || !(s[0] == '1' || s[0] == '2') || s[1] != '.' || s[2] != '0' || s[3] != ';') return 0;
    int v2 = s[0] == '2';
    f[VER] = (Span){s, 3};
    c.p = s + 4;
    if (!f_time(&c, f, ';') || !f_plain(&c, &f[OP], 0, ';') || !f_plain(&c, &f[STATUS], 0, ';') ||
        !f_http(&c, f, ';') || !f_digits(&c, &f[E2E], 1, ';') || !f_digits(&c, &f[SRV], 1, ';') ||
        !f_lower(&c, &f[AUTH]) || !f_plain(&c, &f[REQUESTER], 1, ';') || !f_plain(&c, NULL, 1, ';') ||
        !f_lower(&c, NULL))
        return 0;
    /* URL: "?[^?"\n;]*+(?:\?((?:[^"\n;&]|&[a-zA-Z]+;|&#\d+;|&)*+))?"? ; the query goes to SIG */
    const char *p = c.p;
    if (p < e && *p == '"') p++;
    p = find3(p, e, '?', '"', ';');
    f[SIG] = (Span){p, 0};
    if (p < e && *p == '?') {
        const char *qs = ++p;
        while ((p = find3(p, e, '"', ';', '&')) < e && *p == '&') { /* an entity, or a lone & */
            const char *r = p + 1;
            if (r < e && ISALPHA(*r)) {
                while (r < e && ISALPHA(*r)) r++;
                if (r < e && *r == ';') { p = r + 1; continue; }
            } else if (r < e && *r == '#' && r + 1 < e && ISDIGIT(r[1])) {
                r++;
                while (r < e && ISDIGIT(*r)) r++;
                if (r < e && *r == ';') { p = r + 1; continue; }
            }
            p++;
        }
        f[SIG] = (Span){qs, p - qs};
    }
    if (p < e && *p == '"') p++;
    if (p >= e || *p != ';') return 0;
    p++;
    /* "/account/container/object" */
    if (e - p < 2 || p[0] != '"' || p[1] != '/') return 0;
    p = find3(p + 2, e, '/', '"', '/');
    if (p >= e || *p != '/') return 0;
    const char *cs = ++p;
    p = find3(p, e, '/', '"', '/');
    f[CONTAINER] = (Span){cs, p - cs};
    if (p < e && *p == '/') p++;
    const char *q = find_quote(p, e);
    if (!q || q + 1 >= e || q[1] != ';') return 0;
    f[OBJECT] = (Span){p, q - p};
    c.p = q + 2;
    if (!f_plain(&c, &f[RID], 1, ';') || !f_digits(&c, &f[OPC], 1, ';')) return 0;
    /* \d{1,3}(\.\d{1,3}){3} with an optional :port */
    p = c.p;
    const char *ip = p;
    for (int octet = 0; octet < 4; octet++) {
        int n = 0;
        while (n < 3 && p < e && ISDIGIT(*p)) p++, n++;
        if (!n) return 0;
        if (octet < 3) {
            if (p >= e || *p != '.') return 0;
            p++;
        }
    }
    f[IP] = (Span){ip, p - ip};
    if (p < e && *p == ':' && p + 1 < e && ISDIGIT(p[1])) {
        p++;
        while (p < e && ISDIGIT(*p)) p++;
    }
    if (p >= e || *p != ';') return 0;
    c.p = p + 1;
    if (!f_plain(&c, NULL, 1, ';') || !f_digits(&c, NULL, 0, ';') || !f_digits(&c, &f[REQ], 1, ';') ||
        !f_digits(&c, NULL, 0, ';') || !f_digits(&c, &f[RESP], 1, ';') || !f_digits(&c, NULL, 0, ';') ||
        !f_quoted(&c, NULL, 0) || !f_quoted(&c, NULL, 0))
        return 0;
    /* ETag: (?:""[^"\n]*""|"[^"\n]*")?; */
    p = c.p;
    if (e - p >= 2 && p[0] == '"' && p[1] == '"' && (q = find_quote(p + 2, e)) && q + 2 < e &&
        q[1] == '"' && q[2] == ';')
        p = q + 3;
    else if (p < e && p[0] == '"' && (q = find_quote(p + 1, e)) && q + 1 < e && q[1] == ';')
        p = q + 2;
    else if (p < e && *p == ';')
        p++;
    else
        return 0;
    c.p = p;
    if (!f_plain(&c, NULL, 1, ';') || !f_quoted(&c, NULL, 0) || !f_quoted(&c, &f[UA], 0) ||
        !f_quoted(&c, NULL, 0))
        return 0;
    f[OID] = f[APPID] = f[UPN] = (Span){e, 0};
    if (!v2) return f_quoted(&c, NULL, 1);
    if (!f_quoted(&c, NULL, 0)) return 0;
    if (e - c.p >= 7 && memcmp(c.p, ";;;;;;;", 7) == 0) return 1; /* no OAuth: fields 30-36 empty */
    return f_quoted(&c, &f[OID], 0) && f_quoted(&c, NULL, 0) &&
           f_quoted(&c, &f[APPID], 0) && f_quoted(&c, NULL, 0) && f_quoted(&c, NULL, 0) &&
           f_quoted(&c, &f[UPN], 0) && f_plain(&c, NULL, 0, ';');
    /* the last field, [^\n]*, is the rest of the line */
}

/* The bench's CSV-clean variant: csv,time,operation,status,http,e2e,server,auth,requester,sas_principal,
 * container,object,request_id,operation_count,ip,request_bytes,response_bytes,"user_agent",oid,app,upn */
static int parse_clean(const char *s, const char *e, Span *f) {
    Cur c = {s, e};
    if (e - s < 4 || memcmp(s, "csv,", 4) != 0) return 0;
    f[VER] = (Span){s, 3};
    c.p = s + 4;
    if (!f_time(&c, f, ',') || !f_plain(&c, &f[OP], 0, ',') || !f_plain(&c, &f[STATUS], 0, ',') ||
        !f_http(&c, f, ',') || !f_digits(&c, &f[E2E], 1, ',') || !f_digits(&c, &f[SRV], 1, ','))
        return 0;
    static const int text[] = {AUTH, REQUESTER, SIG, CONTAINER, OBJECT, RID};
    for (int i = 0; i < 6; i++)
        if (!f_plain(&c, &f[text[i]], 0, ',')) return 0;
    if (!f_digits(&c, &f[OPC], 1, ',') || !f_plain(&c, &f[IP], 0, ',') || !f_digits(&c, &f[REQ], 1, ',') ||
        !f_digits(&c, &f[RESP], 1, ','))
        return 0;
    const char *p = c.p, *q;
    if (p >= e || *p != '"' || !(q = find_quote(p + 1, e)) || q + 1 >= e || q[1] != ',') return 0;
    f[UA] = (Span){p + 1, q - p - 1};
    c.p = q + 2;
    if (!f_plain(&c, &f[OID], 0, ',') || !f_plain(&c, &f[APPID], 0, ',')) return 0;
    f[UPN] = (Span){c.p, e - c.p}; /* ([^,\n]*)\r?$ keeps a trailing \r in the capture, as the regex does */
    return !has_byte(c.p, e - c.p, ',');
}

/* ---------------------------------------------------------------- Azure Monitor JSON events
 *
 * parse.monitor_record's result for one event, for events of the usual shape: every value it reads is a
 * string without escapes, a non-negative integer, null or absent, and the rest is well-formed JSON that
 * json.loads reads the same way. Anything else (an escape in a value we read, a float, NaN, a surrogate,
 * nesting deeper than MAX_DEPTH, an unknown identity type) goes to the Python parser. Text this path
 * makes (escaped HTML, sums, lowercased types) goes to a scratch buffer reserved before the line. */

#define MAX_DEPTH 32

static int64_t to_int(Span s, int *ok) {
    int64_t v = 0;
    if (s.n == 0 || s.n > MAX_DIGITS) { *ok = 0; return 0; }
    for (Py_ssize_t i = 0; i < s.n; i++) {
        if (!ISDIGIT(s.p[i])) { *ok = 0; return 0; }
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

typedef struct { const char *p, *e; } J;

static inline void j_ws(J *j) {
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

/* a JSON string; *plain says it has no escapes (only then is *out its text) */
static int j_string(J *j, Span *out, int *plain) {
    if (j->p >= j->e || *j->p != '"') return 0;
    const char *s = ++j->p;
    *plain = 1;
    for (;;) {
        const char *q = find3(j->p, j->e, '"', '\\', '"');
        for (const char *t = j->p; t < q; t++)
            if ((unsigned char)*t < 0x20) return 0; /* json.loads refuses raw control characters */
        if (q >= j->e) return 0;
        if (*q == '"') {
            *out = (Span){s, q - s};
            j->p = q + 1;
            return 1;
        }
        *plain = 0;
        if (q + 1 >= j->e) return 0;
        char c = q[1];
        if (c == 'u') {
            if (j->e - q < 6) return 0;
            for (int i = 2; i < 6; i++)
                if (!ISDIGIT(q[i]) && (unsigned char)((q[i] | 0x20) - 'a') >= 6) return 0;
            j->p = q + 6;
        } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
            j->p = q + 2;
        } else {
            return 0;
        }
    }
}

/* -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? ; *integer when neither fraction nor exponent */
static int j_number(J *j, Span *out, int *integer) {
    const char *s = j->p, *p = s, *e = j->e;
    if (p < e && *p == '-') p++;
    if (p >= e || !ISDIGIT(*p)) return 0;
    if (*p == '0') p++;
    else while (p < e && ISDIGIT(*p)) p++;
    *integer = 1;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !ISDIGIT(*p)) return 0;
        while (p < e && ISDIGIT(*p)) p++;
        *integer = 0;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (p >= e || !ISDIGIT(*p)) return 0;
        while (p < e && ISDIGIT(*p)) p++;
        *integer = 0;
    }
    *out = (Span){s, p - s};
    j->p = p;
    return 1;
}

static int j_word(J *j, const char *word, size_t n) {
    if ((size_t)(j->e - j->p) < n || memcmp(j->p, word, n) != 0) return 0;
    j->p += n;
    return 1;
}

static int j_skip(J *j, int depth);

static int j_skip_container(J *j, int depth, char close) {
    if (depth > MAX_DEPTH) return 0;
    j->p++;
    j_ws(j);
    if (j->p < j->e && *j->p == close) { j->p++; return 1; }
    for (;;) {
        if (close == '}') {
            Span k;
            int plain;
            if (!j_string(j, &k, &plain)) return 0;
            j_ws(j);
            if (j->p >= j->e || *j->p != ':') return 0;
            j->p++;
            j_ws(j);
        }
        if (!j_skip(j, depth + 1)) return 0;
        j_ws(j);
        if (j->p >= j->e) return 0;
        if (*j->p == ',') { j->p++; j_ws(j); continue; }
        if (*j->p == close) { j->p++; return 1; }
        return 0;
    }
}

static int j_skip(J *j, int depth) {
    if (j->p >= j->e) return 0;
    Span s;
    int flag;
    switch (*j->p) {
    case '"': return j_string(j, &s, &flag);
    case '{': return j_skip_container(j, depth, '}');
    case '[': return j_skip_container(j, depth, ']');
    case 't': return j_word(j, "true", 4);
    case 'f': return j_word(j, "false", 5);
    case 'n': return j_word(j, "null", 4);
    default: return j_number(j, &s, &flag);
    }
}

/* What parse.monitor_record reads of a value. */
enum { V_ABSENT, V_NULL, V_TEXT, V_INT };
typedef struct { int kind; Span text; int64_t n; int escaped; } Value;

/* a value we read: a string, a non-negative integer of at most 18 digits, or null */
static int j_value(J *j, Value *v) {
    if (j->p < j->e && *j->p == '"') {
        int plain;
        if (!j_string(j, &v->text, &plain)) return 0;
        v->kind = V_TEXT;
        v->escaped = !plain;
        return 1;
    }
    if (j_word(j, "null", 4)) { v->kind = V_NULL; return 1; }
    int integer;
    if (j->p >= j->e || !ISDIGIT(*j->p) || !j_number(j, &v->text, &integer) || !integer || v->text.n > MAX_DIGITS)
        return 0;
    int ok = 1;
    v->n = to_int(v->text, &ok);
    v->kind = V_INT;
    return ok;
}

typedef struct { const char *name; Value *value; int object; } Field;

/* a repeated key replaces the whole object, as in json.loads: forget what the earlier one said */
static void forget(Field *fields, int n, Field **nested, int *nn) {
    for (int i = 0; i < n; i++) {
        fields[i].value->kind = V_ABSENT;
        if (fields[i].object) forget(nested[fields[i].object - 1], nn[fields[i].object - 1], nested, nn);
    }
}

/* An object whose fields of interest are read into `fields` (the last one wins, as in json.loads);
 * a field marked `object` is itself read with `nested` (or skipped when nested is NULL). */
static int j_object(J *j, Field *fields, int n, int depth, Field **nested, int *nn) {
    if (depth > MAX_DEPTH || j->p >= j->e || *j->p != '{') return 0;
    j->p++;
    j_ws(j);
    if (j->p < j->e && *j->p == '}') { j->p++; return 1; }
    for (;;) {
        Span key;
        int plain;
        if (!j_string(j, &key, &plain) || !plain) return 0; /* an escaped key might spell one we read */
        j_ws(j);
        if (j->p >= j->e || *j->p != ':') return 0;
        j->p++;
        j_ws(j);
        int found = -1;
        for (int i = 0; i < n; i++)
            if ((size_t)key.n == strlen(fields[i].name) && memcmp(key.p, fields[i].name, key.n) == 0) found = i;
        if (found < 0) {
            if (!j_skip(j, depth + 1)) return 0;
        } else if (fields[found].object) {
            Value *v = fields[found].value;
            forget(nested[fields[found].object - 1], nn[fields[found].object - 1], nested, nn);
            if (j_word(j, "null", 4)) {
                v->kind = V_NULL;
            } else {
                int which = fields[found].object - 1;
                if (!j_object(j, nested[which], nn[which], depth + 1, nested, nn)) return 0;
                v->kind = V_TEXT; /* present as an object */
            }
        } else if (!j_value(j, fields[found].value)) {
            return 0;
        }
        j_ws(j);
        if (j->p >= j->e) return 0;
        if (*j->p == ',') { j->p++; j_ws(j); continue; }
        if (*j->p == '}') { j->p++; return 1; }
        return 0;
    }
}

/* html.escape(text, quote=True) into the scratch buffer (reserved: 6 bytes per input byte) */
static Span html_escaped(Buf *b, Span s) {
    const char *p = s.p, *e = s.p + s.n;
    int special = 0;
    for (const char *t = p; t < e; t++)
        if (*t == '&' || *t == '<' || *t == '>' || *t == '"' || *t == '\'') { special = 1; break; }
    if (!special) return s;
    char *out = b->p + b->n, *o = out;
    for (; p < e; p++) {
        switch (*p) {
        case '&': memcpy(o, "&amp;", 5); o += 5; break;
        case '<': memcpy(o, "&lt;", 4); o += 4; break;
        case '>': memcpy(o, "&gt;", 4); o += 4; break;
        case '"': memcpy(o, "&quot;", 6); o += 6; break;
        case '\'': memcpy(o, "&#x27;", 6); o += 6; break;
        default: *o++ = *p;
        }
    }
    b->n += o - out;
    return (Span){out, o - out};
}

static Span scratch_number(Buf *b, int64_t n) {
    char *out = b->p + b->n;
    int len = snprintf(out, 24, "%lld", (long long)n);
    b->n += len;
    return (Span){out, len};
}

static unsigned hex4(const char *p) {
    unsigned u = 0;
    for (int i = 0; i < 4; i++) u = u * 16 + (ISDIGIT(p[i]) ? p[i] - '0' : ((p[i] | 0x20) - 'a' + 10));
    return u;
}

/* A string's escapes decoded into the scratch buffer as json.loads does; 0 for a lone surrogate (which
 * Python keeps, and UTF-8 cannot hold: left to the Python parser). The escapes are valid (j_string). */
static int j_decode(Span raw, Buf *b, Span *out) {
    char *o = b->p + b->n, *start = o;
    const char *p = raw.p, *e = raw.p + raw.n;
    while (p < e) {
        if (*p != '\\') { *o++ = *p++; continue; }
        char c = p[1];
        p += 2;
        switch (c) {
        case 'b': *o++ = '\b'; continue;
        case 'f': *o++ = '\f'; continue;
        case 'n': *o++ = '\n'; continue;
        case 'r': *o++ = '\r'; continue;
        case 't': *o++ = '\t'; continue;
        case 'u': break;
        default: *o++ = c; continue; /* " \\ / */
        }
        unsigned u = hex4(p);
        p += 4;
        if (u >= 0xDC00 && u <= 0xDFFF) return 0;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (e - p < 6 || p[0] != '\\' || p[1] != 'u') return 0;
            unsigned low = hex4(p + 2);
            if (low < 0xDC00 || low > 0xDFFF) return 0;
            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
            p += 6;
        }
        if (u < 0x80) {
            *o++ = (char)u;
        } else if (u < 0x800) {
            *o++ = (char)(0xC0 | (u >> 6)), *o++ = (char)(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            *o++ = (char)(0xE0 | (u >> 12)), *o++ = (char)(0x80 | ((u >> 6) & 0x3F));
            *o++ = (char)(0x80 | (u & 0x3F));
        } else {
            *o++ = (char)(0xF0 | (u >> 18)), *o++ = (char)(0x80 | ((u >> 12) & 0x3F));
            *o++ = (char)(0x80 | ((u >> 6) & 0x3F)), *o++ = (char)(0x80 | (u & 0x3F));
        }
    }
    b->n += o - start;
    *out = (Span){start, o - start};
    return 1;
}

/* The text of a value we read ("" when absent or null), escapes decoded; 0 when Python must do it. */
static int text_of_value(const Value *v, Buf *b, Span *out) {
    if (v->kind != V_TEXT) { *out = (Span){"", 0}; return 1; }
    if (!v->escaped) { *out = v->text; return 1; }
    return j_decode(v->text, b, out);
}

/* _strip_port: [v6]:port -> v6, host:port -> host, else as is */
static Span strip_port(Span ip) {
    if (ip.n && ip.p[0] == '[') {
        const char *close = memchr(ip.p, ']', ip.n);
        return close ? (Span){ip.p + 1, close - ip.p - 1} : ip;
    }
    const char *colon = memchr(ip.p, ':', ip.n);
    if (colon && !memchr(colon + 1, ':', ip.p + ip.n - colon - 1)) return (Span){ip.p, colon - ip.p};
    return ip;
}

static int parse_json(const char *s, const char *e, Span *f, Buf *scratch) {
    Value time = {0}, op = {0}, code = {0}, text = {0}, duration = {0}, caller = {0}, rid = {0};
    Value identity = {0}, props = {0}, kind = {0}, token = {0}, requester = {0}, oid = {0}, app = {0};
    Value upn = {0}, account = {0}, ua = {0}, server = {0}, key = {0}, count = {0}, rqh = {0}, rqb = {0};
    Value rsh = {0}, rsb = {0};
    Field top[] = {{"time", &time, 0}, {"operationName", &op, 0}, {"statusCode", &code, 0},
                   {"statusText", &text, 0}, {"durationMs", &duration, 0}, {"callerIpAddress", &caller, 0},
                   {"correlationId", &rid, 0}, {"identity", &identity, 1}, {"properties", &props, 2}};
    Field id[] = {{"type", &kind, 0}, {"tokenHash", &token, 0}, {"requester", &requester, 3}};
    Field pr[] = {{"accountName", &account, 0}, {"userAgentHeader", &ua, 0}, {"serverLatencyMs", &server, 0},
                  {"objectKey", &key, 0}, {"operationCount", &count, 0}, {"requestHeaderSize", &rqh, 0},
                  {"requestBodySize", &rqb, 0}, {"responseHeaderSize", &rsh, 0}, {"responseBodySize", &rsb, 0}};
    Field rq[] = {{"objectId", &oid, 0}, {"appId", &app, 0}, {"upn", &upn, 0}};
    Field *nested[] = {id, pr, rq};
    int nn[] = {3, 9, 3};
    J j = {s, e};
    j_ws(&j);
    if (!j_object(&j, top, 9, 0, nested, nn)) return 0;
    j_ws(&j);
    if (j.p != e) return 0;
    /* strings where monitor_record insists on them; no other types where it would str() them */
    if (time.kind != V_TEXT || op.kind != V_TEXT || text.kind == V_INT || text.kind == V_NULL ||
        code.kind == V_NULL || caller.kind == V_INT || rid.kind == V_INT || kind.kind == V_INT ||
        token.kind == V_INT || account.kind == V_INT || ua.kind == V_INT || key.kind == V_INT ||
        oid.kind == V_INT || app.kind == V_INT || upn.kind == V_INT)
        return 0;
    const Value *numbers[] = {&duration, &server, &count, &rqh, &rqb, &rsh, &rsb};
    for (int i = 0; i < 7; i++)
        if (numbers[i]->kind == V_TEXT) return 0; /* "12" is int("12") in Python: left to it */
    scratch->n = 0;
    if (buf_reserve(scratch, (size_t)(e - s) * 8 + 256) < 0) return 0;
    Value *texts[] = {&time, &op, &code, &text, &caller, &rid, &kind, &token, &account, &ua, &key, &oid, &app, &upn};
    Span tx[14];
    for (int i = 0; i < 14; i++)
        if (!text_of_value(texts[i], scratch, &tx[i])) return 0;
    Span t = tx[0];
    if (t.n < 16 || !ascii_only(t.p, t.n)) return 0;
    static const char shape[] = "dddd-dd-ddTdd:dd";
    for (int i = 0; i < 16; i++)
        if (shape[i] == 'd' ? !ISDIGIT(t.p[i]) : t.p[i] != shape[i]) return 0;
    if (!real_time(t.p, t.p + 11, t.p + 14)) return 0;
    f[VER] = (Span){"json", 4};
    f[TIME] = t;
    f[DATE] = (Span){t.p, 10};
    f[HH] = (Span){t.p + 11, 2};
    f[MM] = (Span){t.p + 14, 2};
    f[OP] = tx[1];
    f[STATUS] = tx[3];
    f[HTTP] = code.kind == V_INT ? code.text : tx[2];
    if (f[HTTP].n && (unsigned char)f[HTTP].p[0] >= 0x80) return 0; /* a Unicode digit would count */
    f[HCLASS] = (f[HTTP].n && ISDIGIT(f[HTTP].p[0])) ? (Span){f[HTTP].p, 1} : (Span){"", 0};
    Span *measures[] = {&f[E2E], &f[SRV], &f[OPC]};
    const Value *sources[] = {&duration, &server, &count};
    for (int i = 0; i < 3; i++)
        *measures[i] = sources[i]->kind == V_INT ? scratch_number(scratch, sources[i]->n) : (Span){"0", 1};
    int64_t sizes[4];
    const Value *parts[] = {&rqh, &rqb, &rsh, &rsb};
    for (int i = 0; i < 4; i++) sizes[i] = parts[i]->kind == V_INT ? parts[i]->n : 0;
    if (sizes[0] + sizes[1] >= 1000000000000000000LL || sizes[2] + sizes[3] >= 1000000000000000000LL) return 0;
    f[REQ] = scratch_number(scratch, sizes[0] + sizes[1]);
    f[RESP] = scratch_number(scratch, sizes[2] + sizes[3]);
    /* identity.type: AUTH_OF_IDENTITY, else lowercased */
    Span type = tx[6];
    static const char *names[] = {"AccountKey", "SAS", "OAuth", "Anonymous"};
    static const char *auths[] = {"authenticated", "sas", "bearer", "anonymous"};
    f[AUTH] = (Span){NULL, -1};
    for (int i = 0; i < 4; i++)
        if ((size_t)type.n == strlen(names[i]) && memcmp(type.p, names[i], type.n) == 0)
            f[AUTH] = (Span){auths[i], (Py_ssize_t)strlen(auths[i])};
    if (f[AUTH].n < 0) {
        if (!ascii_only(type.p, type.n)) return 0;
        char *lower = scratch->p + scratch->n;
        for (Py_ssize_t i = 0; i < type.n; i++)
            lower[i] = (type.p[i] >= 'A' && type.p[i] <= 'Z') ? type.p[i] + 32 : type.p[i];
        scratch->n += type.n;
        f[AUTH] = (Span){lower, type.n};
    }
    int account_auth = (f[AUTH].n == 13 && memcmp(f[AUTH].p, "authenticated", 13) == 0) ||
                       (f[AUTH].n == 6 && memcmp(f[AUTH].p, "bearer", 6) == 0);
    f[REQUESTER] = account_auth ? tx[8] : (Span){"", 0};
    /* SasSignature(<hex>) in the token hash: its first 16 hex digits, lowercased */
    f[SIG] = (Span){"", 0};
    Span th = tx[7];
    for (const char *p = th.p, *end = th.p + th.n; p && p < end;) {
        const char *at = memchr(p, 'S', end - p);
        if (!at) break;
        if (end - at > 13 && memcmp(at, "SasSignature(", 13) == 0) {
            const char *h = at + 13, *x = h;
            while (x < end && (ISDIGIT(*x) || (unsigned char)((*x | 0x20) - 'a') < 6)) x++;
            if (x > h && x < end && *x == ')') {
                Py_ssize_t n = x - h < 16 ? x - h : 16;
                char *sig = scratch->p + scratch->n;
                for (Py_ssize_t i = 0; i < n; i++) sig[i] = h[i] | (ISDIGIT(h[i]) ? 0 : 0x20);
                scratch->n += n;
                f[SIG] = (Span){sig, n};
                break;
            }
        }
        p = at + 1;
    }
    /* _split_key: "/account/container/object" */
    Span ok = tx[10], container = {"", 0}, object = {"", 0};
    if (ok.n && ok.p[0] == '/') {
        const char *end = ok.p + ok.n, *second = memchr(ok.p + 1, '/', ok.n - 1);
        if (second) {
            const char *third = memchr(second + 1, '/', end - second - 1);
            container = (Span){second + 1, (third ? third : end) - second - 1};
            if (third) object = (Span){third + 1, end - third - 1};
        }
    }
    f[CONTAINER] = html_escaped(scratch, container);
    f[OBJECT] = html_escaped(scratch, object);
    f[RID] = tx[5];
    f[IP] = strip_port(tx[4]);
    f[UA] = html_escaped(scratch, tx[9]);
    f[OID] = html_escaped(scratch, tx[11]);
    f[APPID] = html_escaped(scratch, tx[12]);
    f[UPN] = html_escaped(scratch, tx[13]);
    return 1;
}

/* ---------------------------------------------------------------- the engine */

typedef struct { char *code; uint32_t len; int64_t n; } Status;

typedef struct {
    PyObject *key; /* the Python key tuple */
    int kind;
    int64_t end; /* window end, minutes since 1970 */
    int64_t count;
    char *first, *last;
    uint32_t flen, llen;
    int64_t sum[4], min[4], max[4];
    Status *statuses;
    int nstatus;
    Map objects; /* container length + container + object */
    PyObject *ids;
} Group;

typedef struct { int64_t end; Map seen; } Window;

typedef struct {
    PyObject_HEAD
    int nkey[NKINDS], key[NKINDS][WIDTH], width[NKINDS];
    PyObject *kind_of, *settle;
    Map ops, sas, groups, windows;
    PyObject *sas_values; /* list of settled SAS principals (bytes), indexed by the sas map */
    Group **g;
    size_t ng, capg;
    Window *w;
    size_t nw, capw;
    long long accepted, duplicates, dup_req, dup_resp, raw_req, raw_resp;
    char last_op[64];
    Py_ssize_t last_op_len;
    int last_kind;
    int last_wkind;
    int64_t last_wstart;
    int32_t last_wi;
    char latest[64];
    uint32_t latest_len;
    Buf key_buf;
    Buf scratch; /* text the JSON path makes for one line */
    int tracking; /* known/fresh in use: repeats across batches are told by request digests */
    Map known;
    Buf fresh;
} Engine;

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Window start in minutes since 1970, or -1 when DATE/HH/MM are not a real time. */
static int64_t window_start(Span date, Span hh, Span mm, int width) {
    if (date.n != 10 || hh.n != 2 || mm.n != 2) return -1;
    const char *d = date.p;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? d[i] != '-' : !ISDIGIT(d[i])) return -1;
    if (!ISDIGIT(hh.p[0]) || !ISDIGIT(hh.p[1]) || !ISDIGIT(mm.p[0]) || !ISDIGIT(mm.p[1])) return -1;
    if (!real_time(d, hh.p, mm.p)) return -1;
    int year = two(d) * 100 + two(d + 2), month = two(d + 5), day = two(d + 8), h = two(hh.p), m = two(mm.p);
    int64_t start = days_from_civil(year, month, day) * 1440;
    if (width < 1440) start += h * 60;
    if (width < 60) start += (m / width) * width;
    return start;
}


static int bytes_cmp(const char *a, uint32_t an, const char *b, uint32_t bn) {
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static PyObject *text_of(Span s) { return PyUnicode_DecodeUTF8(s.p, s.n, "replace"); }

static int engine_kind(Engine *e, Span op) {
    int inserted;
    int32_t kind = map_get(&e->ops, op.p, (uint32_t)op.n, -1, &inserted);
    if (kind >= 0) return kind;
    PyObject *name = text_of(op);
    if (!name) return -1;
    PyObject *r = PyObject_CallOneArg(e->kind_of, name);
    Py_DECREF(name);
    if (!r) return -1;
    long k = PyLong_AsLong(r);
    Py_DECREF(r);
    if (k < 0 || k >= NKINDS) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "kind_of returned no kind index");
        return -1;
    }
    if (map_get(&e->ops, op.p, (uint32_t)op.n, (int32_t)k, &inserted) < 0) { PyErr_NoMemory(); return -1; }
    return (int)k;
}

static int engine_kind_cached(Engine *e, Span op) {
    if (op.n == e->last_op_len && memcmp(op.p, e->last_op, op.n) == 0) return e->last_kind;
    int kind = engine_kind(e, op);
    if (kind >= 0 && op.n <= (Py_ssize_t)sizeof e->last_op) {
        memcpy(e->last_op, op.p, op.n);
        e->last_op_len = op.n;
        e->last_kind = kind;
    }
    return kind;
}

/* A SAS query as the principal Python names it (a hash of its signature), cached per distinct query. */
static int engine_settle(Engine *e, Span *sig) {
    int inserted;
    int32_t i = map_get(&e->sas, sig->p, (uint32_t)sig->n, -1, &inserted);
    if (i < 0) {
        PyObject *query = text_of(*sig);
        if (!query) return -1;
        PyObject *r = PyObject_CallOneArg(e->settle, query);
        Py_DECREF(query);
        if (!r) return -1;
        PyObject *b = PyUnicode_AsUTF8String(r);
        Py_DECREF(r);
        if (!b) return -1;
        int fail = PyList_Append(e->sas_values, b);
        Py_DECREF(b);
        if (fail) return -1;
        i = map_get(&e->sas, sig->p, (uint32_t)sig->n, (int32_t)PyList_GET_SIZE(e->sas_values) - 1, &inserted);
        if (i < 0) { PyErr_NoMemory(); return -1; }
    }
    PyObject *b = PyList_GET_ITEM(e->sas_values, i);
    *sig = (Span){PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b)};
    return 0;
}

static void group_free(Group *g) {
    Py_XDECREF(g->key);
    Py_XDECREF(g->ids);
    free(g->first);
    free(g->last);
    for (int i = 0; i < g->nstatus; i++) free(g->statuses[i].code);
    free(g->statuses);
    map_free(&g->objects, 1);
    free(g);
}

static int set_text(char **dst, uint32_t *dlen, Span s) {
    char *p = realloc(*dst, s.n ? s.n : 1);
    if (!p) return -1;
    memcpy(p, s.p, s.n);
    *dst = p;
    *dlen = (uint32_t)s.n;
    return 0;
}

static Group *group_new(Engine *e, int kind, int64_t start, Span *f) {
    int width = e->width[kind], n = e->nkey[kind];
    Group *g = calloc(1, sizeof(Group));
    if (!g) { PyErr_NoMemory(); return NULL; }
    g->kind = kind;
    g->end = start + (width < 1440 ? width : 1440);
    g->key = PyTuple_New(n + (width < 60));
    g->ids = PyList_New(0);
    if (!g->key || !g->ids || map_init(&g->objects, 8) < 0) goto fail;
    for (int i = 0; i < n; i++) {
        PyObject *t = text_of(f[e->key[kind][i]]);
        if (!t) goto fail;
        PyTuple_SET_ITEM(g->key, i, t);
    }
    if (width < 60) {
        PyObject *slot = PyLong_FromLongLong((start % 60 + 60) % 60);
        if (!slot) goto fail;
        PyTuple_SET_ITEM(g->key, n, slot);
    }
    for (int i = 0; i < 4; i++) g->min[i] = INT64_MAX, g->max[i] = INT64_MIN;
    return g;
fail:
    if (!PyErr_Occurred()) PyErr_NoMemory();
    group_free(g);
    return NULL;
}

/* One record (its 25 fields as byte spans) into the engine. SIG is settled already when `settled`. */
static int engine_add(Engine *e, Span *f, int settled) {
    static const int measures[4] = {REQ, RESP, E2E, SRV};
    int64_t value[4];
    int ok = 1;
    for (int i = 0; i < 4; i++) value[i] = to_int(f[measures[i]], &ok);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "a record's sizes and latencies must be numbers of at most 18 digits");
        return -1;
    }
    e->raw_req += value[0];
    e->raw_resp += value[1];
    if (bytes_cmp(f[TIME].p, (uint32_t)f[TIME].n, e->latest, e->latest_len) > 0 && f[TIME].n <= 64) {
        memcpy(e->latest, f[TIME].p, f[TIME].n);
        e->latest_len = (uint32_t)f[TIME].n;
    }
    if (!settled) {
        int sas = f[AUTH].n == 3 && memcmp(f[AUTH].p, "sas", 3) == 0;
        if (!sas) f[SIG].n = 0;
        else if (f[SIG].n && engine_settle(e, &f[SIG]) < 0) return -1;
    }
    int kind = engine_kind_cached(e, f[OP]);
    if (kind < 0) return -1;
    int width = e->width[kind];
    int64_t start = window_start(f[DATE], f[HH], f[MM], width);
    if (start < 0) {
        PyErr_SetString(PyExc_ValueError, "a record's date and time must be a real UTC time");
        return -1;
    }
    Buf *b = &e->key_buf;
    int inserted;
    if (e->tracking) { /* repeats of lines seen in earlier batches (and this one), by digest */
        b->n = 0;
        if (buf_reserve(b, f[RID].n + 1 + f[OPC].n) < 0) return PyErr_NoMemory(), -1;
        memcpy(b->p, f[RID].p, f[RID].n);
        b->p[f[RID].n] = '/';
        memcpy(b->p + f[RID].n + 1, f[OPC].p, f[OPC].n);
        uint64_t d = request_digest(b->p, f[RID].n + 1 + f[OPC].n);
        if (map_get(&e->known, (const char *)&d, sizeof d, 0, &inserted) < 0) return PyErr_NoMemory(), -1;
        if (!inserted) {
            e->duplicates++;
            e->dup_req += value[0];
            e->dup_resp += value[1];
            return 0;
        }
        if (buf_put(&e->fresh, &d, sizeof d) < 0) return PyErr_NoMemory(), -1;
    }
    /* repeats: (request id, operation count) once per kind and window */
    int32_t wi = e->last_wi;
    if (wi < 0 || kind != e->last_wkind || start != e->last_wstart) {
        b->n = 0;
        if (buf_put(b, &kind, sizeof kind) < 0 || buf_put(b, &start, sizeof start) < 0) return PyErr_NoMemory(), -1;
        wi = map_get(&e->windows, b->p, (uint32_t)b->n, (int32_t)e->nw, &inserted);
        if (wi < 0) return PyErr_NoMemory(), -1;
        e->last_wi = wi;
        e->last_wkind = kind;
        e->last_wstart = start;
    } else {
        inserted = 0;
    }
    if (inserted) {
        if (e->nw == e->capw) {
            size_t cap = e->capw ? e->capw * 2 : 16;
            Window *w = realloc(e->w, cap * sizeof(Window));
            if (!w) return PyErr_NoMemory(), -1;
            e->w = w;
            e->capw = cap;
        }
        e->w[e->nw].end = start + (width < 1440 ? width : 1440);
        if (map_init(&e->w[e->nw].seen, 1024) < 0) return PyErr_NoMemory(), -1;
        e->w[e->nw].seen.use_arena = 1;
        e->nw++;
    }
    b->n = 0;
    if (buf_reserve(b, sizeof(uint32_t) + f[RID].n + f[OPC].n) < 0) return PyErr_NoMemory(), -1;
    buf_span_fast(b, f[RID]);
    memcpy(b->p + b->n, f[OPC].p, f[OPC].n);
    b->n += f[OPC].n;
    if (map_get(&e->w[wi].seen, b->p, (uint32_t)b->n, 0, &inserted) < 0) return PyErr_NoMemory(), -1;
    if (!inserted) {
        e->duplicates++;
        e->dup_req += value[0];
        e->dup_resp += value[1];
        return 0;
    }
    /* the group */
    b->n = 0;
    size_t need = sizeof kind + sizeof start;
    for (int i = 0; i < e->nkey[kind]; i++) need += sizeof(uint32_t) + f[e->key[kind][i]].n;
    if (buf_reserve(b, need) < 0) return PyErr_NoMemory(), -1;
    memcpy(b->p, &kind, sizeof kind);
    memcpy(b->p + sizeof kind, &start, sizeof start);
    b->n = sizeof kind + sizeof start;
    for (int i = 0; i < e->nkey[kind]; i++) buf_span_fast(b, f[e->key[kind][i]]);
    int32_t gi = map_get(&e->groups, b->p, (uint32_t)b->n, (int32_t)e->ng, &inserted);
    if (gi < 0) return PyErr_NoMemory(), -1;
    if (inserted) {
        if (e->ng == e->capg) {
            size_t cap = e->capg ? e->capg * 2 : 256;
            Group **g = realloc(e->g, cap * sizeof(Group *));
            if (!g) return PyErr_NoMemory(), -1;
            e->g = g;
            e->capg = cap;
        }
        e->g[e->ng] = group_new(e, kind, start, f);
        if (!e->g[e->ng]) return -1;
        e->ng++;
    }
    Group *g = e->g[gi];
    e->accepted++;
    g->count++;
    if (!g->first || bytes_cmp(f[TIME].p, (uint32_t)f[TIME].n, g->first, g->flen) < 0)
        if (set_text(&g->first, &g->flen, f[TIME]) < 0) return PyErr_NoMemory(), -1;
    if (!g->last || bytes_cmp(f[TIME].p, (uint32_t)f[TIME].n, g->last, g->llen) > 0)
        if (set_text(&g->last, &g->llen, f[TIME]) < 0) return PyErr_NoMemory(), -1;
    for (int i = 0; i < 4; i++) {
        g->sum[i] += value[i];
        if (value[i] < g->min[i]) g->min[i] = value[i];
        if (value[i] > g->max[i]) g->max[i] = value[i];
    }
    int s = 0;
    while (s < g->nstatus && !(g->statuses[s].len == f[HTTP].n && memcmp(g->statuses[s].code, f[HTTP].p, f[HTTP].n) == 0))
        s++;
    if (s == g->nstatus) {
        Status *st = realloc(g->statuses, (g->nstatus + 1) * sizeof(Status));
        if (!st) return PyErr_NoMemory(), -1;
        g->statuses = st;
        st[s] = (Status){NULL, 0, 0};
        if (set_text(&st[s].code, &st[s].len, f[HTTP]) < 0) return PyErr_NoMemory(), -1;
        g->nstatus++;
    }
    g->statuses[s].n++;
    b->n = 0;
    if (buf_reserve(b, sizeof(uint32_t) + f[CONTAINER].n + f[OBJECT].n) < 0) return PyErr_NoMemory(), -1;
    buf_span_fast(b, f[CONTAINER]);
    memcpy(b->p + b->n, f[OBJECT].p, f[OBJECT].n);
    b->n += f[OBJECT].n;
    if (map_get(&g->objects, b->p, (uint32_t)b->n, 0, &inserted) < 0) return PyErr_NoMemory(), -1;
    if (PyList_GET_SIZE(g->ids) < SAMPLE_IDS) {
        PyObject *rid = text_of(f[RID]);
        if (!rid || PyList_Append(g->ids, rid) < 0) { Py_XDECREF(rid); return -1; }
        Py_DECREF(rid);
    }
    return 0;
}

/* (container, object) of an objects-map key */
static void object_parts(const Slot *s, Span *container, Span *object) {
    uint32_t n;
    memcpy(&n, s->key, sizeof n);
    *container = (Span){s->key + sizeof n, n};
    *object = (Span){s->key + sizeof n + n, s->len - sizeof n - n};
}

static int object_cmp(const Slot *a, const Slot *b) {
    Span ac, ao, bc, bo;
    object_parts(a, &ac, &ao);
    object_parts(b, &bc, &bo);
    int c = bytes_cmp(ac.p, (uint32_t)ac.n, bc.p, (uint32_t)bc.n);
    return c ? c : bytes_cmp(ao.p, (uint32_t)ao.n, bo.p, (uint32_t)bo.n);
}

static PyObject *span_pair(const Slot *s) {
    Span c, o;
    object_parts(s, &c, &o);
    PyObject *ct = text_of(c), *ot = ct ? text_of(o) : NULL;
    PyObject *pair = ot ? PyTuple_Pack(2, ct, ot) : NULL;
    Py_XDECREF(ct);
    Py_XDECREF(ot);
    return pair;
}

static int digest_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The group's distinct objects as sorted 8-byte digests: merging two aggregates of one group later
 * (another batch, another blob) counts the union exactly. */
static PyObject *object_digests(Group *g) {
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(g->objects.used * 8));
    if (!out) return NULL;
    uint64_t *d = (uint64_t *)PyBytes_AS_STRING(out);
    size_t n = 0;
    for (size_t i = 0; i < g->objects.cap; i++)
        if (g->objects.slots[i].val) d[n++] = request_digest(g->objects.slots[i].key, g->objects.slots[i].len);
    qsort(d, n, sizeof *d, digest_cmp);
    return out;
}

/* (kind, key, count, first, last, sums, mins, maxs, statuses, distinct objects, samples, request ids,
 * object digests) */
static PyObject *group_result(Group *g) {
    const Slot *best[SAMPLES];
    int nbest = 0;
    for (size_t i = 0; i < g->objects.cap; i++) {
        const Slot *s = &g->objects.slots[i];
        if (!s->val) continue;
        int at = nbest;
        while (at > 0 && object_cmp(s, best[at - 1]) < 0) at--;
        if (at >= SAMPLES) continue;
        if (nbest < SAMPLES) nbest++;
        memmove(&best[at + 1], &best[at], (nbest - 1 - at) * sizeof best[0]);
        best[at] = s;
    }
    PyObject *statuses = PyDict_New(), *samples = PyList_New(0);
    if (!statuses || !samples) goto fail;
    for (int i = 0; i < g->nstatus; i++) {
        PyObject *code = text_of((Span){g->statuses[i].code, g->statuses[i].len});
        PyObject *n = code ? PyLong_FromLongLong(g->statuses[i].n) : NULL;
        int bad = !n || PyDict_SetItem(statuses, code, n) < 0;
        Py_XDECREF(code);
        Py_XDECREF(n);
        if (bad) goto fail;
    }
    for (int i = 0; i < nbest; i++) {
        PyObject *pair = span_pair(best[i]);
        if (!pair || PyList_Append(samples, pair) < 0) { Py_XDECREF(pair); goto fail; }
        Py_DECREF(pair);
    }
    PyObject *r = Py_BuildValue(
        "iOLNN(LLLL)(LLLL)(LLLL)NnNON", g->kind, g->key, (long long)g->count,
        PyUnicode_DecodeUTF8(g->first, g->flen, "replace"), PyUnicode_DecodeUTF8(g->last, g->llen, "replace"),
        (long long)g->sum[0], (long long)g->sum[1], (long long)g->sum[2], (long long)g->sum[3],
        (long long)g->min[0], (long long)g->min[1], (long long)g->min[2], (long long)g->min[3],
        (long long)g->max[0], (long long)g->max[1], (long long)g->max[2], (long long)g->max[3], statuses,
        (Py_ssize_t)g->objects.used, samples, g->ids, object_digests(g));
    return r;
fail:
    Py_XDECREF(statuses);
    Py_XDECREF(samples);
    return NULL;
}

/* A map whose values are positions in an array that was compacted: moved[old] is the new position, or
 * -1 for an entry that is gone (its key is freed). */
static int map_renumber(Map *m, const int32_t *moved) {
    Map fresh;
    if (map_init(&fresh, m->cap) < 0) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        Slot s = m->slots[i];
        if (!s.val) continue;
        if (moved[s.val - 1] < 0) { free(s.key); continue; }
        s.val = moved[s.val - 1] + 1;
        map_place(fresh.slots, fresh.cap, s);
        fresh.used++;
    }
    free(m->slots);
    *m = fresh;
    return 0;
}

/* Closes the windows ending before `cutoff` minutes (all when cutoff is None): their groups as results. */
static PyObject *engine_close_windows(Engine *e, int all, int64_t cutoff) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    size_t kept = 0;
    int32_t *moved = malloc((e->ng ? e->ng : 1) * sizeof(int32_t));
    if (!moved) { Py_DECREF(out); return PyErr_NoMemory(); }
    for (size_t i = 0; i < e->ng; i++) {
        Group *g = e->g[i];
        if (all || g->end < cutoff) {
            PyObject *r = group_result(g);
            if (!r || PyList_Append(out, r) < 0) { Py_XDECREF(r); Py_DECREF(out); free(moved); return NULL; }
            Py_DECREF(r);
            group_free(g);
            moved[i] = -1;
        } else {
            moved[i] = (int32_t)kept;
            e->g[kept++] = g;
        }
    }
    if (kept != e->ng && map_renumber(&e->groups, moved) < 0) { Py_DECREF(out); free(moved); return PyErr_NoMemory(); }
    e->ng = kept;
    free(moved);
    size_t wkept = 0;
    int32_t *wmoved = malloc((e->nw ? e->nw : 1) * sizeof(int32_t));
    if (!wmoved) { Py_DECREF(out); return PyErr_NoMemory(); }
    for (size_t i = 0; i < e->nw; i++) {
        if (all || e->w[i].end < cutoff) {
            map_free(&e->w[i].seen, 1);
            wmoved[i] = -1;
        } else {
            wmoved[i] = (int32_t)wkept;
            e->w[wkept++] = e->w[i];
        }
    }
    if (wkept != e->nw && map_renumber(&e->windows, wmoved) < 0) { Py_DECREF(out); free(wmoved); return PyErr_NoMemory(); }
    e->nw = wkept;
    free(wmoved);
    e->last_wi = -1;
    return out;
}

/* ---------------------------------------------------------------- the Python type */

static int Engine_init(Engine *e, PyObject *args, PyObject *kwds) {
    PyObject *policies;
    static char *kwlist[] = {"policies", "kind_of", "settle", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO", kwlist, &policies, &e->kind_of, &e->settle)) return -1;
    Py_INCREF(e->kind_of);
    Py_INCREF(e->settle);
    PyObject *seq = PySequence_Fast(policies, "policies must be a sequence of (key indices, width)");
    if (!seq) return -1;
    if (PySequence_Fast_GET_SIZE(seq) != NKINDS) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "one policy per kind (read, write, delete, other)");
        return -1;
    }
    for (int k = 0; k < NKINDS; k++) {
        PyObject *indices;
        int width;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, k), "Oi", &indices, &width)) { Py_DECREF(seq); return -1; }
        PyObject *fast = PySequence_Fast(indices, "key indices must be a sequence");
        if (!fast) { Py_DECREF(seq); return -1; }
        Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
        if (n > WIDTH || width < 1) { Py_DECREF(fast); Py_DECREF(seq); PyErr_SetString(PyExc_ValueError, "bad policy"); return -1; }
        for (Py_ssize_t i = 0; i < n; i++) {
            long index = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
            if (index < 0 || index >= WIDTH) {
                Py_DECREF(fast); Py_DECREF(seq);
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "key index out of range");
                return -1;
            }
            e->key[k][i] = (int)index;
        }
        e->nkey[k] = (int)n;
        e->width[k] = width;
        Py_DECREF(fast);
    }
    Py_DECREF(seq);
    e->last_wi = -1;
    e->last_op_len = -1;
    e->sas_values = PyList_New(0);
    if (!e->sas_values || map_init(&e->ops, 64) < 0 || map_init(&e->sas, 64) < 0 || map_init(&e->groups, 1024) < 0 ||
        map_init(&e->windows, 64) < 0) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void Engine_dealloc(Engine *e) {
    for (size_t i = 0; i < e->ng; i++) group_free(e->g[i]);
    free(e->g);
    for (size_t i = 0; i < e->nw; i++) map_free(&e->w[i].seen, 1);
    free(e->w);
    map_free(&e->ops, 1);
    map_free(&e->sas, 1);
    map_free(&e->groups, 1);
    map_free(&e->windows, 1);
    free(e->key_buf.p);
    free(e->fresh.p);
    free(e->scratch.p);
    map_free(&e->known, 1);
    Py_XDECREF(e->sas_values);
    Py_XDECREF(e->kind_of);
    Py_XDECREF(e->settle);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

/* A Python record (a sequence of 25 str) as spans; the UTF-8 stays valid while `record` lives. */
/* A record's UTF-8 spans. A str that has no UTF-8 form (a lone surrogate: JSON's "\\ud800" escape) is
 * encoded with U+FFFD in its place, kept alive in *held until the caller releases it. */
static int record_spans(PyObject *record, Span *f, PyObject **held) {
    *held = NULL;
    if (!PyTuple_Check(record) || PyTuple_GET_SIZE(record) != WIDTH) {
        PyErr_SetString(PyExc_TypeError, "a record is a tuple of 25 str");
        return -1;
    }
    for (int i = 0; i < WIDTH; i++) {
        PyObject *text = PyTuple_GET_ITEM(record, i);
        Py_ssize_t n;
        const char *p = PyUnicode_AsUTF8AndSize(text, &n);
        if (!p) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
            PyErr_Clear();
            PyObject *bytes = PyUnicode_AsEncodedString(text, "utf-8", "replace");
            if (!bytes) return -1;
            if (!*held && !(*held = PyList_New(0))) { Py_DECREF(bytes); return -1; }
            int bad = PyList_Append(*held, bytes);
            Py_DECREF(bytes);
            if (bad) return -1;
            p = PyBytes_AS_STRING(bytes);
            n = PyBytes_GET_SIZE(bytes);
        }
        f[i] = (Span){p, n};
    }
    return 0;
}

static PyObject *Engine_add_records(Engine *e, PyObject *records) {
    PyObject *it = PyObject_GetIter(records);
    if (!it) return NULL;
    PyObject *record;
    Span f[WIDTH];
    while ((record = PyIter_Next(it))) {
        PyObject *held;
        int bad = record_spans(record, f, &held) < 0 || engine_add(e, f, 1) < 0;
        Py_XDECREF(held);
        Py_DECREF(record);
        if (bad) { Py_DECREF(it); return NULL; }
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

/* feed(data, fmt, fallback): every line of data (whole lines; a last line without \n counts too). */
static PyObject *Engine_feed(Engine *e, PyObject *args) {
    Py_buffer view;
    int fmt;
    PyObject *fallback;
    if (!PyArg_ParseTuple(args, "y*iO", &view, &fmt, &fallback)) return NULL;
    const char *p = view.buf, *end = p + view.len;
    Span f[WIDTH];
    long long fast = 0, lines = 0;
    while (p < end) {
        lines++;
        const char *nl = memchr(p, '\n', end - p), *e_ = nl ? nl : end;
        int parsed = fmt == FMT_CLEAN  ? parse_clean(p, e_, f)
                     : fmt == FMT_JSON ? parse_json(p, e_, f, &e->scratch)
                                       : parse_classic(p, e_, f);
        if (parsed) {
            if (engine_add(e, f, fmt != FMT_CLASSIC) < 0) goto fail;
            fast++;
        } else {
            PyObject *line = PyBytes_FromStringAndSize(p, e_ - p);
            PyObject *record = line ? PyObject_CallOneArg(fallback, line) : NULL;
            Py_XDECREF(line);
            if (!record) goto fail;
            if (record != Py_None) {
                Span rf[WIDTH];
                PyObject *held;
                int bad = record_spans(record, rf, &held) < 0 || engine_add(e, rf, 1) < 0;
                Py_XDECREF(held);
                Py_DECREF(record);
                if (bad) goto fail;
            } else {
                Py_DECREF(record);
            }
        }
        p = nl ? nl + 1 : end;
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("LL", lines, fast);
fail:
    PyBuffer_Release(&view);
    return NULL;
}

static PyObject *Engine_close(Engine *e, PyObject *args) {
    PyObject *cutoff = Py_None;
    if (!PyArg_ParseTuple(args, "|O", &cutoff)) return NULL;
    if (cutoff == Py_None) return engine_close_windows(e, 1, 0);
    long long minutes = PyLong_AsLongLong(cutoff);
    if (minutes == -1 && PyErr_Occurred()) return NULL;
    return engine_close_windows(e, 0, minutes);
}

/* know(digests): 8-byte request digests (as stored) already counted; from now on repeats are told by
 * digest across batches, and the digests of new lines are kept for fresh_digests(). */
static PyObject *Engine_know(Engine *e, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len % 8) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "digests come in 8 bytes each");
        return NULL;
    }
    if (!e->tracking) {
        if (map_init(&e->known, 1024) < 0) { PyBuffer_Release(&view); return PyErr_NoMemory(); }
        e->known.use_arena = 1;
        e->tracking = 1;
    }
    int inserted;
    for (Py_ssize_t i = 0; i < view.len; i += 8)
        if (map_get(&e->known, (const char *)view.buf + i, 8, 0, &inserted) < 0) {
            PyBuffer_Release(&view);
            return PyErr_NoMemory();
        }
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

static PyObject *Engine_fresh_digests(Engine *e, PyObject *unused) {
    return PyBytes_FromStringAndSize(e->fresh.p ? e->fresh.p : "", (Py_ssize_t)e->fresh.n);
}

static PyObject *Engine_figures(Engine *e, PyObject *unused) {
    return Py_BuildValue("{sLsLsLsLsLsLsN}", "accepted", e->accepted, "duplicates", e->duplicates,
                         "duplicate_request", e->dup_req, "duplicate_response", e->dup_resp, "raw_request",
                         e->raw_req, "raw_response", e->raw_resp, "latest",
                         PyUnicode_DecodeUTF8(e->latest, e->latest_len, "replace"));
}

static PyMethodDef Engine_methods[] = {
    {"feed", (PyCFunction)Engine_feed, METH_VARARGS, "Parse and aggregate whole lines; returns (lines, lines parsed in C)."},
    {"add_records", (PyCFunction)Engine_add_records, METH_O, "Aggregate record tuples (SIG settled)."},
    {"close", (PyCFunction)Engine_close, METH_VARARGS, "Results of windows ending before cutoff minutes, or all."},
    {"figures", (PyCFunction)Engine_figures, METH_NOARGS, "Counters: accepted, duplicates, raw sums, latest."},
    {"know", (PyCFunction)Engine_know, METH_O, "Request digests already counted (8 bytes each)."},
    {"fresh_digests", (PyCFunction)Engine_fresh_digests, METH_NOARGS, "Digests of the lines accepted since."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "storage_logs._engine.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
    .tp_doc = "Parse + aggregate engine for storage log lines (see storage_logs/aggregate.py).",
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_engine", NULL, -1, NULL};

PyMODINIT_FUNC PyInit__engine(void) {
    if (PyType_Ready(&EngineType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "Engine", (PyObject *)&EngineType) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    /* a per-process seed: crafted field values cannot aim at one bucket */
    PyObject *os = PyImport_ImportModule("os");
    PyObject *rnd = os ? PyObject_CallMethod(os, "urandom", "i", 8) : NULL;
    if (rnd && PyBytes_GET_SIZE(rnd) == 8) memcpy(&hash_seed, PyBytes_AS_STRING(rnd), 8);
    Py_XDECREF(rnd);
    Py_XDECREF(os);
    PyErr_Clear();
    return m;
}
