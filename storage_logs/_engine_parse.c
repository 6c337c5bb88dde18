/* The three line formats, parsed in C for lines of the usual shape: classic Storage Analytics 1.0/2.0,
 * Azure Monitor JSON events and the bench's CSV-clean variant.
 *
 * A line accepted here is one the Python reader (storage_logs/parse.py) reads to the same record: the C
 * parser follows the first-choice path and gives up on anything else (non-ASCII digits, an IPv6 address, a
 * 19-digit number, a float, an operation or container name outside Azure's shapes, a quirk it does not
 * follow), and the engine hands that line to Python, which returns a record or rejects it with a reason. */
#include "_engine.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* :SS, an optional fraction of 1 to 7 digits and an optional Z after "YYYY-MM-DDTHH:MM": the rest of a
 * log line's time, as parse.TIME_SHAPE says */
static inline int time_tail_ok(Span t) {
    const char *p = t.p;
    Py_ssize_t n = t.n, i = 19;
    if (n < 19 || p[16] != ':' || !ISDIGIT(p[17]) || !ISDIGIT(p[18]) || p[17] > '5') return 0;
    if (i < n && p[i] == '.') {
        Py_ssize_t start = ++i;
        while (i < n && ISDIGIT(p[i])) i++;
        if (i == start || i - start > 7) return 0;
    }
    if (i < n && p[i] == 'Z') i++;
    return i == n;
}

/* Azure's operation names: letters and digits, at most 64 (anything else never becomes a chart trace) */
static inline int op_ok(Span s) {
    if (s.n < 1 || s.n > 64) return 0;
    for (Py_ssize_t i = 0; i < s.n; i++)
        if (!ISALPHA(s.p[i]) && !ISDIGIT(s.p[i])) return 0;
    return 1;
}

/* A container (or queue, table, share) name: an optional $ and up to 63 letters, digits and hyphens */
static inline int container_ok(Span s) {
    Py_ssize_t i = s.n && s.p[0] == '$';
    if (s.n > 64 || s.n - i > 63) return 0;
    for (; i < s.n; i++)
        if (!ISALPHA(s.p[i]) && !ISDIGIT(s.p[i]) && s.p[i] != '-') return 0;
    return 1;
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
    if (!f_plain(c, &t, 0, sep) || !time_tail_ok(t)) return 0;
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

int parse_classic(const char *s, const char *e, Span *f) {
    Cur c = {s, e};
    if (e - s < 4 || !(s[0] == '1' || s[0] == '2') || s[1] != '.' || s[2] != '0' || s[3] != ';') return 0;
    int v2 = s[0] == '2';
    f[VER] = (Span){s, 3};
    c.p = s + 4;
    if (!f_time(&c, f, ';') || !f_plain(&c, &f[OP], 0, ';') || !f_plain(&c, &f[STATUS], 0, ';') ||
        !f_http(&c, f, ';') || !f_digits(&c, &f[E2E], 1, ';') || !f_digits(&c, &f[SRV], 1, ';') ||
        !f_lower(&c, &f[AUTH]) || !f_plain(&c, &f[REQUESTER], 1, ';') || !f_plain(&c, NULL, 1, ';') ||
        !f_lower(&c, NULL) || !op_ok(f[OP]))
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
    if (!container_ok(f[CONTAINER])) return 0;
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
int parse_clean(const char *s, const char *e, Span *f) {
    Cur c = {s, e};
    if (e - s < 4 || memcmp(s, "csv,", 4) != 0) return 0;
    f[VER] = (Span){s, 3};
    c.p = s + 4;
    if (!f_time(&c, f, ',') || !f_plain(&c, &f[OP], 0, ',') || !f_plain(&c, &f[STATUS], 0, ',') ||
        !f_http(&c, f, ',') || !f_digits(&c, &f[E2E], 1, ',') || !f_digits(&c, &f[SRV], 1, ',') ||
        !op_ok(f[OP]))
        return 0;
    static const int text[] = {AUTH, REQUESTER, SIG, CONTAINER, OBJECT, RID};
    for (int i = 0; i < 6; i++)
        if (!f_plain(&c, &f[text[i]], 0, ',')) return 0;
    if (!container_ok(f[CONTAINER])) return 0;
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

void j_ws(J *j) {
    while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n')) j->p++;
}

/* a JSON string; *plain says it has no escapes (only then is *out its text) */
int j_string(J *j, Span *out, int *plain) {
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
int j_decode(Span raw, Buf *b, Span *out) {
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

int parse_json(const char *s, const char *e, Span *f, Buf *scratch) {
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
    if (!real_time(t.p, t.p + 11, t.p + 14) || !time_tail_ok(t) || !op_ok(tx[1])) return 0;
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
    /* SasSignature(<hex>) in the token hash: '#' and its first 16 hex digits, lowercased (the '#' tells a
     * signature hash from the visible fields classic lines give) */
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
                sig[0] = '#';
                for (Py_ssize_t i = 0; i < n; i++) sig[i + 1] = h[i] | (ISDIGIT(h[i]) ? 0 : 0x20);
                scratch->n += n + 1;
                f[SIG] = (Span){sig, n + 1};
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
    if (!container_ok(container)) return 0;
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


/* ---------------------------------------------------------------- SAS tokens in classic lines
 *
 * Azure never logs a SAS signature (sig=XXXXX); what tells tokens apart is their visible fields
 * (parse.SAS_FIELDS). This is parse.sas_fields for queries of the usual shape: ASCII, parameters split by
 * '&' or '&amp;' and no other HTML entity (html.unescape has its own rules for those: Python does them). */

static const char *const SAS_NAMES[] = {"sv", "ss", "srt", "sp", "st", "se", "sip", "spr", "sr", "si",
                                        "sdd", "skoid", "sktid", "skt", "ske", "sks", "skv", "saoid",
                                        "suoid", "scid", "ses", "rscc", "rscd", "rsce", "rscl", "rsct", NULL};

typedef struct { char key[8]; int klen; Span value; } SasPair;

static int sas_name(const char *p, Py_ssize_t n, char *lower) {
    if (n < 2 || n > 5 || ((p[0] | 0x20) != 's' && (p[0] | 0x20) != 'r')) return 0;
    for (Py_ssize_t i = 0; i < n; i++) lower[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
    static size_t lengths[sizeof SAS_NAMES / sizeof SAS_NAMES[0]];
    if (!lengths[0])
        for (int i = 0; SAS_NAMES[i]; i++) lengths[i] = strlen(SAS_NAMES[i]);
    for (int i = 0; SAS_NAMES[i]; i++)
        if ((size_t)n == lengths[i] && memcmp(lower, SAS_NAMES[i], n) == 0) return 1;
    return 0;
}

static int pair_cmp(const void *a, const void *b) {
    const SasPair *x = a, *y = b;
    int c = memcmp(x->key, y->key, (size_t)(x->klen < y->klen ? x->klen : y->klen));
    if (c || x->klen != y->klen) return c ? c : x->klen - y->klen;
    Py_ssize_t n = x->value.n < y->value.n ? x->value.n : y->value.n;
    c = memcmp(x->value.p, y->value.p, (size_t)n);
    return c ? c : (x->value.n > y->value.n) - (x->value.n < y->value.n);
}

int sas_fields(Span query, Buf *out) {
    if (!ascii_only(query.p, query.n)) return 0;
    SasPair pairs[32];
    int np = 0;
    const char *p = query.p, *e = query.p + query.n, *start = p;
    for (;;) {
        const char *amp = p < e ? memchr(p, '&', e - p) : NULL, *end = amp ? amp : e;
        if (amp) {
            char value;
            int n = entity_at(amp, e, &value);
            if (n > 0 && value != '&') return 0; /* another entity inside a value: Python's rules */
            if (n < 0) return 0;
            p = amp + (n ? n : 1);
        }
        const char *eq = memchr(start, '=', end - start), *kend = eq ? eq : end;
        char lower[8];
        if (sas_name(start, kend - start, lower)) {
            if (np == 32) return 0;
            memcpy(pairs[np].key, lower, kend - start);
            pairs[np].klen = (int)(kend - start);
            pairs[np].value = eq ? (Span){eq + 1, end - eq - 1} : (Span){end, 0};
            np++;
        }
        if (!amp) break;
        start = p;
    }
    qsort(pairs, np, sizeof pairs[0], pair_cmp);
    out->n = 0;
    for (int i = 0; i < np; i++) {
        if ((i && buf_byte(out, '&') < 0) || buf_put(out, pairs[i].key, pairs[i].klen) < 0 ||
            buf_byte(out, '=') < 0 || buf_put(out, pairs[i].value.p, pairs[i].value.n) < 0)
            return -1;
    }
    return 1;
}
