/* Helpers of the storage log engine: buffers, hashes (a fast 64-bit one for maps and digests, SHA-256 for
 * identities that are stored), maps and sets, and the checks of text and time the parsers share. */
#include "_engine.h"

/* ---------------------------------------------------------------- buffers */

int buf_reserve(Buf *b, size_t n) {
    if (b->n + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_put(Buf *b, const void *data, size_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
    return 0;
}

/* ---------------------------------------------------------------- a fast 64-bit hash (after wyhash) */

uint64_t hash_seed = 0x243F6A8885A308D3ULL;

static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ULL; x ^= x >> 33;
    return x;
}

static inline uint64_t mum(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t read64(const char *p) {
    uint64_t k;
    memcpy(&k, p, 8);
    return k;
}

uint64_t hash_with(uint64_t seed, const char *p, size_t n) {
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

/* ---------------------------------------------------------------- SHA-256 (FIPS 180-4) */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* The same blocks with the CPU's SHA extensions (most x86-64 CPUs since 2017): about four times faster. */
__attribute__((target("sha,sse4.1"))) static void sha256_blocks_ni(uint32_t h[8], const uint8_t *p, size_t blocks) {
    const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1); /* CDAB */
    __m128i state1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* EFGH */
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);                                /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);                                     /* CDGH */
    for (; blocks--; p += 64) {
        __m128i abef = state0, cdgh = state1, msg[4];
        for (int r = 0; r < 16; r++) {
            if (r < 4) {
                msg[r] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * r)), mask);
            } else {
                __m128i t = _mm_sha256msg1_epu32(msg[r & 3], msg[(r + 1) & 3]);
                t = _mm_add_epi32(t, _mm_alignr_epi8(msg[(r + 3) & 3], msg[(r + 2) & 3], 4));
                msg[r & 3] = _mm_sha256msg2_epu32(t, msg[(r + 3) & 3]);
            }
            __m128i m = _mm_add_epi32(msg[r & 3], _mm_loadu_si128((const __m128i *)&K256[4 * r]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, m);
            state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(m, 0x0E));
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }
    tmp = _mm_shuffle_epi32(state0, 0x1B);      /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);   /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0); /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);    /* ABEF */
    _mm_storeu_si128((__m128i *)&h[0], state0);
    _mm_storeu_si128((__m128i *)&h[4], state1);
}

static int has_sha_ni(void) {
    static int known = -1;
    if (known < 0) {
        unsigned a, b, c, d;
        known = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1) && __get_cpuid(1, &a, &b, &c, &d) &&
                (c >> 19 & 1); /* SHA and SSE4.1 */
    }
    return known;
}
#endif

static void sha256_blocks(uint32_t h[8], const uint8_t *p, size_t blocks) {
#if defined(__x86_64__)
    if (has_sha_ni()) {
        sha256_blocks_ni(h, p, blocks);
        return;
    }
#endif
    for (; blocks--; p += 64) sha256_block(h, p);
}

void sha256(const void *data, size_t n, uint8_t out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    size_t left = n;
    sha256_blocks(h, p, left / 64);
    p += left / 64 * 64;
    left %= 64;
    uint8_t tail[128] = {0};
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t blocks = left + 9 > 64 ? 2 : 1;
    uint64_t bits = (uint64_t)n * 8;
    for (int i = 0; i < 8; i++) tail[blocks * 64 - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_blocks(h, tail, blocks);
    for (int i = 0; i < 8; i++)
        out[4 * i] = h[i] >> 24, out[4 * i + 1] = h[i] >> 16, out[4 * i + 2] = h[i] >> 8, out[4 * i + 3] = h[i];
}

/* ---------------------------------------------------------------- arenas and maps */

char *arena_alloc(Block **arena, size_t n) {
    Block *b = *arena;
    if (!b || b->used + n > b->cap) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof(Block) + cap);
        if (!b) return NULL;
        b->next = *arena;
        b->used = 0;
        b->cap = cap;
        *arena = b;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

void arena_free(Block **arena) {
    while (*arena) {
        Block *next = (*arena)->next;
        free(*arena);
        *arena = next;
    }
}

int map_init(Map *m, size_t cap) {
    m->slots = calloc(cap, sizeof(Slot));
    m->cap = cap;
    m->used = 0;
    m->arena = NULL;
    return m->slots ? 0 : -1;
}

void map_free(Map *m) {
    arena_free(&m->arena);
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

int32_t map_get(Map *m, const char *key, uint32_t len, int32_t newval, int *inserted) {
    return map_put(m, key, len, newval, inserted, NULL);
}

int32_t map_put(Map *m, const char *key, uint32_t len, int32_t newval, int *inserted, const char **stored) {
    uint64_t h = hash_with(hash_seed, key, len);
    *inserted = 0;
    for (;;) {
        size_t i = h & (m->cap - 1);
        while (m->slots[i].val) {
            Slot *s = &m->slots[i];
            if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) {
                if (stored) *stored = s->key;
                return s->val - 1;
            }
            i = (i + 1) & (m->cap - 1);
        }
        if (newval < 0) return -1;
        if ((m->used + 1) * 4 > m->cap * 3) {
            if (map_grow(m) < 0) return -2;
            continue;
        }
        char *copy = arena_alloc(&m->arena, len ? len : 1);
        if (!copy) return -2;
        memcpy(copy, key, len);
        m->slots[i] = (Slot){h, copy, len, newval + 1};
        m->used++;
        if (stored) *stored = copy;
        *inserted = 1;
        return newval;
    }
}

/* ---------------------------------------------------------------- sets of 64-bit digests */

int u64set_init(U64Set *s, size_t cap) {
    size_t c = 16;
    while (c < cap) c *= 2;
    s->slots = calloc(c, sizeof(uint64_t));
    s->cap = c;
    s->used = 0;
    s->has_zero = 0;
    return s->slots ? 0 : -1;
}

void u64set_free(U64Set *s) {
    free(s->slots);
    s->slots = NULL;
    s->cap = s->used = 0;
    s->has_zero = 0;
}

static inline size_t u64_slot(uint64_t v, size_t cap) { return (size_t)(mix64(v) & (cap - 1)); }

static int u64set_grow(U64Set *s) {
    size_t cap = s->cap * 2;
    uint64_t *slots = calloc(cap, sizeof(uint64_t));
    if (!slots) return -1;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t v = s->slots[i];
        if (!v) continue;
        size_t j = u64_slot(v, cap);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = v;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int u64set_add(U64Set *s, uint64_t v) {
    if (!v) {
        if (s->has_zero) return 0;
        s->has_zero = 1;
        return 1;
    }
    if ((s->used + 1) * 2 > s->cap && u64set_grow(s) < 0) return -1;
    size_t i = u64_slot(v, s->cap);
    while (s->slots[i]) {
        if (s->slots[i] == v) return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = v;
    s->used++;
    return 1;
}

int u64set_has(const U64Set *s, uint64_t v) {
    if (!v) return s->has_zero;
    if (!s->cap) return 0;
    size_t i = u64_slot(v, s->cap);
    while (s->slots[i]) {
        if (s->slots[i] == v) return 1;
        i = (i + 1) & (s->cap - 1);
    }
    return 0;
}

/* ---------------------------------------------------------------- text and time */

int ascii_only(const char *p, Py_ssize_t n) {
    uint64_t high = 0;
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) high |= read64(p + i);
    for (; i < n; i++) high |= (unsigned char)p[i];
    return !(high & 0x8080808080808080ULL);
}

/* Well-formed UTF-8 as Python's strict decoder takes it: no overlong forms, surrogates or > U+10FFFF. */
int utf8_valid(const char *s, Py_ssize_t n) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        if (e - p >= 8 && !(read64((const char *)p) & 0x8080808080808080ULL)) { p += 8; continue; }
        unsigned c = *p;
        if (c < 0x80) { p++; continue; }
        int need;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) need = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) need = 2;
        else if (c == 0xED) need = 2, hi = 0x9F;
        else if (c >= 0xEE && c <= 0xEF) need = 2;
        else if (c == 0xF0) need = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) need = 3, hi = 0x8F;
        else return 0;
        if (e - p <= need) return 0;
        if (p[1] < lo || p[1] > hi) return 0;
        for (int i = 2; i <= need; i++)
            if (p[i] < 0x80 || p[i] > 0xBF) return 0;
        p += need + 1;
    }
    return 1;
}

int64_t to_int(Span s, int *ok) {
    int64_t v = 0;
    if (s.n == 0 || s.n > MAX_DIGITS) { *ok = 0; return 0; }
    for (Py_ssize_t i = 0; i < s.n; i++) {
        if (!ISDIGIT(s.p[i])) { *ok = 0; return 0; }
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

static int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

int real_time(const char *d, const char *hh, const char *mm) {
    int year = two(d) * 100 + two(d + 2), month = two(d + 5), day = two(d + 8);
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= mdays[month - 1] &&
           !(month == 2 && day == 29 && !leap) && two(hh) <= 23 && two(mm) <= 59;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int parse_time_us(Span t, int64_t *us) {
    const char *p = t.p;
    Py_ssize_t n = t.n;
    if (n < 19) return 0;
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    for (int i = 0; i < 19; i++) {
        if (shape[i] == 'd' ? !ISDIGIT(p[i]) : (i == 10 ? (p[i] != 'T' && p[i] != ' ') : p[i] != shape[i]))
            return 0;
    }
    if (!real_time(p, p + 11, p + 14) || two(p + 17) > 59) return 0;
    Py_ssize_t i = 19;
    int64_t micro = 0;
    if (i < n && p[i] == '.') {
        int digits = 0;
        i++;
        while (i < n && ISDIGIT(p[i])) {
            if (digits < 6) micro = micro * 10 + (p[i] - '0');
            digits++;
            i++;
        }
        if (digits < 1 || digits > 7) return 0;
        for (int k = digits; k < 6; k++) micro *= 10;
    }
    if (i < n && p[i] == 'Z') i++;
    else if (i < n && p[i] == '+') { /* a stored UTC offset: +00 or +00:00 */
        if (!((n - i == 3 && memcmp(p + i, "+00", 3) == 0) || (n - i == 6 && memcmp(p + i, "+00:00", 6) == 0)))
            return 0;
        i = n;
    }
    if (i != n) return 0;
    int year = two(p) * 100 + two(p + 2);
    int64_t days = days_from_civil(year, two(p + 5), two(p + 8));
    *us = ((days * 24 + two(p + 11)) * 60 + two(p + 14)) * 60000000LL + two(p + 17) * 1000000LL + micro;
    return 1;
}

/* ---------------------------------------------------------------- HTML entities, as html.unescape reads them
 *
 * Classic log fields are HTML-encoded by Azure. These helpers decode the entities html.escape writes and
 * tell every other '&' apart: a literal '&' (html.unescape leaves it), or something only Python decodes
 * the same way (a numeric reference, a name followed by ';', or a name that starts with one of HTML5's
 * legacy entity names, which html.unescape also reads without ';'). */

static const char *const LEGACY[] = {
    "AElig", "AMP", "Aacute", "Acirc", "Agrave", "Aring", "Atilde", "Auml", "COPY", "Ccedil", "ETH",
    "Eacute", "Ecirc", "Egrave", "Euml", "GT", "Iacute", "Icirc", "Igrave", "Iuml", "LT", "Ntilde", "Oacute",
    "Ocirc", "Ograve", "Oslash", "Otilde", "Ouml", "QUOT", "REG", "THORN", "Uacute", "Ucirc", "Ugrave",
    "Uuml", "Yacute", "aacute", "acirc", "acute", "aelig", "agrave", "amp", "aring", "atilde", "auml",
    "brvbar", "ccedil", "cedil", "cent", "copy", "curren", "deg", "divide", "eacute", "ecirc", "egrave",
    "eth", "euml", "frac12", "frac14", "frac34", "gt", "iacute", "icirc", "iexcl", "igrave", "iquest", "iuml",
    "laquo", "lt", "macr", "micro", "middot", "nbsp", "not", "ntilde", "oacute", "ocirc", "ograve", "ordf",
    "ordm", "oslash", "otilde", "ouml", "para", "plusmn", "pound", "quot", "raquo", "reg", "sect", "shy",
    "sup1", "sup2", "sup3", "szlig", "thorn", "times", "uacute", "ucirc", "ugrave", "uml", "uuml", "yacute",
    "yen", "yuml", NULL};

const char *const *legacy_entities(void) { return LEGACY; }

static int run_char(char c) {
    return c != '\t' && c != '\n' && c != '\f' && c != ' ' && c != '<' && c != '&' && c != '#' && c != ';';
}

static const struct { const char *text; int n; char value; } SIMPLE[] = {
    {"&amp;", 5, '&'}, {"&lt;", 4, '<'}, {"&gt;", 4, '>'}, {"&quot;", 6, '"'}, {"&#x27;", 6, '\''}, {"&#39;", 5, '\''},
    {NULL, 0, 0}};

int entity_at(const char *p, const char *e, char *value) {
    for (int i = 0; SIMPLE[i].text; i++) {
        if (e - p >= SIMPLE[i].n && memcmp(p, SIMPLE[i].text, SIMPLE[i].n) == 0) {
            *value = SIMPLE[i].value;
            return SIMPLE[i].n;
        }
    }
    const char *r = p + 1;
    if (r >= e || !run_char(*r)) return r < e && *r == '#' ? -1 : 0; /* "&#…": Python's numeric rules */
    const char *q = r;
    while (q < e && run_char(*q)) q++;
    if (q < e && *q == ';') return -1;
    for (int i = 0; LEGACY[i]; i++) {
        size_t n = strlen(LEGACY[i]);
        if ((size_t)(q - r) >= n && memcmp(r, LEGACY[i], n) == 0) return -1;
    }
    return 0;
}

int html_unescape_fast(Span s, Buf *out) {
    out->n = 0;
    const char *p = s.p, *e = s.p + s.n;
    while (p < e) {
        const char *amp = memchr(p, '&', e - p);
        if (!amp) return buf_put(out, p, e - p) < 0 ? -1 : 1;
        if (buf_put(out, p, amp - p) < 0) return -1;
        char value;
        int n = entity_at(amp, e, &value);
        if (n < 0) return 0;
        if (buf_byte(out, n ? value : '&') < 0) return -1;
        p = amp + (n ? n : 1);
    }
    return 1;
}

/* ---------------------------------------------------------------- SAS signatures in stored text
 *
 * parse.redact: a sig= value that is not Azure's own XXXXX becomes XXXXX (object names and samples are
 * stored; a signature is a secret, whoever wrote it there). */

static int sig_end(char c) {
    return c == '&' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
           c == '"' || c == '\'';
}

static const char *find_sig(const char *p, const char *e) {
    for (const char *q = p + 3; q < e && (q = memchr(q, '=', e - q)); q++)
        if ((q[-3] | 0x20) == 's' && (q[-2] | 0x20) == 'i' && (q[-1] | 0x20) == 'g') return q - 3;
    return NULL;
}

const char *find_signature(const char *p, size_t n) { return find_sig(p, p + n); }

int redact_signatures(Buf *b) {
    const char *p = b->p, *e = b->p + b->n;
    if (!b->n || !find_sig(p, e)) return 0;
    Buf out = {0};
    while (p < e) {
        const char *at = find_sig(p, e);
        if (!at) { if (buf_put(&out, p, e - p) < 0) goto fail; break; }
        const char *v = at + 4, *end = v;
        while (end < e && !sig_end(*end)) end++;
        int azure = end - v == 5 && memcmp(v, "XXXXX", 5) == 0;
        if (buf_put(&out, p, v - p) < 0 || buf_put(&out, azure || end == v ? v : "XXXXX", azure || end == v ? end - v : 5) < 0)
            goto fail;
        p = end;
    }
    free(b->p);
    *b = out;
    return 0;
fail:
    free(out.p);
    return -1;
}
