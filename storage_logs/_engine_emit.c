/* Groups leave the engine as rows ready to store: PostgreSQL COPY text, tuples for executemany, or only
 * their figures (reduce_logs, the policy preview). Each row carries its export size (aggregate.export) and
 * its group key (16 bytes of SHA-256 over the policy and the group's key fields). Before a batch is
 * stored, the rows already stored for its groups are merged in (`absorb`), so a row is written once with
 * its final values. */
#include "_engine_core.h"

static const char *const KIND_NAMES[NKINDS] = {"read", "write", "delete", "other"};

static const char *const COLUMNS[] = {
    "account_id", "kind", "window_start", "window_end", "operation", "status_class", "auth_type",
    "principal_kind", "principal_id", "principal_label", "upn", "app_id", "client_ip", "user_agent",
    "container", "object_key", "count", "first_time", "last_time", "request_bytes", "request_bytes_min",
    "request_bytes_max", "response_bytes", "response_bytes_min", "response_bytes_max", "latency_ms_sum",
    "latency_ms_min", "latency_ms_max", "server_ms_sum", "server_ms_min", "server_ms_max", "status_counts",
    "distinct_objects", "sample_objects", "sample_request_ids", "object_digests", "group_key", "export_size",
    "billed_size", "batches", NULL};

PyObject *row_columns(void) {
    PyObject *out = PyList_New(0);
    for (int i = 0; out && COLUMNS[i]; i++) {
        PyObject *name = PyUnicode_FromString(COLUMNS[i]);
        if (!name || PyList_Append(out, name) < 0) { Py_XDECREF(name); Py_DECREF(out); return NULL; }
        Py_DECREF(name);
    }
    PyObject *tuple = out ? PyList_AsTuple(out) : NULL;
    Py_XDECREF(out);
    return tuple;
}

enum { T_DJANGO };
static int time_text(int64_t us, int style, char *out);

/* ---------------------------------------------------------------- key fields and group keys */

static void key_fields(const Engine *e, const Group *g, Span *f) {
    for (int i = 0; i < WIDTH; i++) f[i] = (Span){"", 0};
    const char *p = g->key + 1 + sizeof(int64_t);
    for (int i = 0; i < e->nkey[g->kind]; i++) {
        uint32_t len;
        memcpy(&len, p, sizeof len);
        f[e->key[g->kind][i]] = (Span){p + sizeof len, len};
        p += sizeof len + len;
    }
}

int group_key16(Engine *e, Group *g) {
    if (g->keyed) return 0;
    Buf *b = &e->scratch;
    b->n = 0;
    int32_t head[3] = {e->width[g->kind], e->flags[g->kind], e->nkey[g->kind]};
    if (buf_str(b, "ascmon-aggregate-1") < 0 || buf_put(b, head, sizeof head) < 0 ||
        buf_put(b, e->key[g->kind], sizeof(int) * e->nkey[g->kind]) < 0 || buf_put(b, g->key, g->klen) < 0)
        return engine_nomem(e);
    uint8_t digest[32];
    sha256(b->p, b->n, digest);
    memcpy(g->key16, digest, 16);
    g->keyed = 1;
    return 0;
}

static void hex_of(const uint8_t *p, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) out[2 * i] = digits[p[i] >> 4], out[2 * i + 1] = digits[p[i] & 15];
}

/* keys(): the open groups' window starts (as Django stores them in SQLite) and keys (32 hex digits), a
 * tab between, one group per line (bytes), in group order. */
PyObject *Engine_keys(Engine *e, PyObject *unused) {
    READY(e);
    map_free(&e->by_key16);
    if (map_init(&e->by_key16, 1024) < 0) return PyErr_NoMemory();
    Buf b = {0};
    for (size_t i = 0; i < e->ng; i++) {
        int inserted;
        char line[96];
        Group *g = &e->g[i];
        if (group_key16(e, g) < 0 || map_get(&e->by_key16, (const char *)g->key16, 16, (int32_t)i, &inserted) < 0) {
            free(b.p);
            return PyErr_Occurred() ? NULL : PyErr_NoMemory();
        }
        int n = time_text(g->start * 60000000LL, T_DJANGO, line);
        line[n++] = '\t';
        hex_of(g->key16, 16, line + n);
        line[n + 32] = '\n';
        if (buf_put(&b, line, n + 33) < 0) { free(b.p); return PyErr_NoMemory(); }
    }
    PyObject *out = PyBytes_FromStringAndSize(b.p ? b.p : "", (Py_ssize_t)b.n);
    free(b.p);
    return out;
}

static int u64_cmp(const void *a, const void *b);

/* windows(): the distinct window starts of the open groups (as Django stores them in SQLite), sorted, one
 * per line (bytes). Asking the database which of them hold stored rows first spares hashing and listing
 * the keys of a busy account's new hour, none of which can have a stored row. */
PyObject *Engine_windows(Engine *e, PyObject *unused) {
    READY(e);
    /* window starts are minutes since 1970: positive, so they sort as unsigned */
    uint64_t *starts = malloc((e->ng ? e->ng : 1) * sizeof *starts), last = 0;
    if (!starts) return PyErr_NoMemory();
    size_t n = 0;
    for (size_t i = 0; i < e->ng; i++) /* groups of a window mostly come together */
        if (i == 0 || (uint64_t)e->g[i].start != last) starts[n++] = last = (uint64_t)e->g[i].start;
    qsort(starts, n, sizeof *starts, u64_cmp);
    Buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (i && starts[i] == starts[i - 1]) continue;
        char line[64];
        int len = time_text((int64_t)starts[i] * 60000000LL, T_DJANGO, line);
        line[len++] = '\n';
        if (buf_put(&b, line, len) < 0) { free(b.p); free(starts); return PyErr_NoMemory(); }
    }
    free(starts);
    PyObject *out = PyBytes_FromStringAndSize(b.p ? b.p : "", (Py_ssize_t)b.n);
    free(b.p);
    return out;
}

/* ---------------------------------------------------------------- merging stored rows */

static int hex_key(PyObject *text, uint8_t out[16]) {
    Py_ssize_t n;
    const char *p = PyUnicode_Check(text) ? PyUnicode_AsUTF8AndSize(text, &n) : NULL;
    if (!p) return 0;
    int got = 0;
    for (Py_ssize_t i = 0; i < n && got < 32; i++) {
        char c = p[i];
        if (c == '-') continue;
        int v = ISDIGIT(c) ? c - '0' : ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') ? (c | 0x20) - 'a' + 10 : -1;
        if (v < 0) return 0;
        if (got % 2 == 0) out[got / 2] = (uint8_t)(v << 4);
        else out[got / 2] |= (uint8_t)v;
        got++;
    }
    return got == 32;
}

static int text_arg(PyObject *o, Span *s) {
    Py_ssize_t n;
    const char *p = PyUnicode_Check(o) ? PyUnicode_AsUTF8AndSize(o, &n) : NULL;
    if (!p) return 0;
    *s = (Span){p, n};
    return 1;
}

static int absorb_statuses(Engine *e, Group *g, Span json) {
    J j = {json.p, json.p + json.n};
    j_ws(&j);
    if (j.p >= j.e || *j.p != '{') return 0;
    j.p++;
    j_ws(&j);
    if (j.p < j.e && *j.p == '}') return 1;
    for (;;) {
        Span raw, code;
        int plain;
        if (!j_string(&j, &raw, &plain)) return 0;
        e->text2.n = 0;
        if (plain) code = raw;
        else if (buf_reserve(&e->text2, raw.n * 4 + 8) < 0 || !j_decode(raw, &e->text2, &code)) return 0;
        j_ws(&j);
        if (j.p >= j.e || *j.p != ':') return 0;
        j.p++;
        j_ws(&j);
        const char *s = j.p;
        while (j.p < j.e && ISDIGIT(*j.p)) j.p++;
        int ok = 1;
        int64_t n = to_int((Span){s, j.p - s}, &ok);
        if (!ok) return 0;
        if (g && group_add_status(e, g, code, n) < 0) return -1; /* no group: only checked */
        j_ws(&j);
        if (j.p < j.e && *j.p == ',') { j.p++; j_ws(&j); continue; }
        return j.p < j.e && *j.p == '}';
    }
}

/* a JSON array of strings: each decoded string is handed to take(e, g, text, n, arg) */
static int absorb_strings(Engine *e, Group *g, Span json, int (*take)(Engine *, Group *, const char *, size_t)) {
    J j = {json.p, json.p + json.n};
    j_ws(&j);
    if (j.p >= j.e || *j.p != '[') return 0;
    j.p++;
    j_ws(&j);
    if (j.p < j.e && *j.p == ']') return 1;
    for (;;) {
        Span raw, text;
        int plain;
        if (!j_string(&j, &raw, &plain)) return 0;
        e->text2.n = 0;
        if (plain) text = raw;
        else if (buf_reserve(&e->text2, raw.n * 4 + 8) < 0 || !j_decode(raw, &e->text2, &text)) return 0;
        if (take && take(e, g, text.p, text.n) < 0) return -1; /* no taker: only checked */
        j_ws(&j);
        if (j.p < j.e && *j.p == ',') { j.p++; j_ws(&j); continue; }
        return j.p < j.e && *j.p == ']';
    }
}

static int take_sample(Engine *e, Group *g, const char *p, size_t n) { return group_offer_sample(e, g, p, n); }

/* a JSON array of batch ids, added to the group (or only checked when there is none) */
static int absorb_batches(Group *g, Span json) {
    J j = {json.p, json.p + json.n};
    j_ws(&j);
    if (j.p >= j.e || *j.p != '[') return 0;
    j.p++;
    j_ws(&j);
    if (j.p < j.e && *j.p == ']') return 1;
    for (;;) {
        const char *s = j.p;
        while (j.p < j.e && ISDIGIT(*j.p)) j.p++;
        int ok = 1;
        int64_t batch = to_int((Span){s, j.p - s}, &ok);
        if (!ok) return 0;
        if (g && group_add_batch(g, batch) < 0) return -1;
        j_ws(&j);
        if (j.p < j.e && *j.p == ',') { j.p++; j_ws(&j); continue; }
        return j.p < j.e && *j.p == ']';
    }
}

typedef struct { Span ids[SAMPLE_IDS]; int n; } StoredIds;
static StoredIds *stored_ids;
static int take_id(Engine *e, Group *g, const char *p, size_t n) {
    (void)e, (void)g;
    if (stored_ids->n < SAMPLE_IDS) {
        char *copy = malloc(n ? n : 1);
        if (!copy) return PyErr_NoMemory(), -1;
        memcpy(copy, p, n);
        stored_ids->ids[stored_ids->n++] = (Span){copy, (Py_ssize_t)n};
    }
    return 0;
}

/* One stored row (group_key, count, first_time, last_time, the twelve sums/mins/maxs in column order,
 * status_counts, sample_objects, sample_request_ids as JSON text, object_digests, export_size, billed_size) merged
 * into its open group. */
static int absorb_row(Engine *e, PyObject *row) {
    if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 23) {
        PyErr_SetString(PyExc_TypeError, "a stored row is a tuple of 23 values");
        return -1;
    }
    uint8_t key[16];
    if (!hex_key(PyTuple_GET_ITEM(row, 0), key)) {
        PyErr_SetString(PyExc_ValueError, "a stored row's group key is not 32 hex digits");
        return -1;
    }
    int inserted;
    int32_t gi = map_get(&e->by_key16, (const char *)key, 16, -1, &inserted);
    if (gi < 0) {
        PyErr_SetString(PyExc_KeyError, "a stored row whose group is not open (call keys() first)");
        return -1;
    }
    Group *g = &e->g[gi];
    int64_t n[13], first, last;
    Span t1, t2;
    for (int i = 0; i < 13; i++) {
        n[i] = PyLong_AsLongLong(PyTuple_GET_ITEM(row, i == 0 ? 1 : i + 3));
        if (n[i] == -1 && PyErr_Occurred()) return -1;
    }
    if (!text_arg(PyTuple_GET_ITEM(row, 2), &t1) || !text_arg(PyTuple_GET_ITEM(row, 3), &t2) ||
        !parse_time_us(t1, &first) || !parse_time_us(t2, &last)) {
        PyErr_SetString(PyExc_ValueError, "a stored row's first or last time is not a time");
        return -1;
    }
    Span statuses, samples, ids, batches;
    if (!text_arg(PyTuple_GET_ITEM(row, 16), &statuses) || !text_arg(PyTuple_GET_ITEM(row, 17), &samples) ||
        !text_arg(PyTuple_GET_ITEM(row, 18), &ids) || !text_arg(PyTuple_GET_ITEM(row, 22), &batches)) {
        PyErr_SetString(PyExc_TypeError, "a stored row's status counts, samples and ids are JSON text");
        return -1;
    }
    if (absorb_statuses(e, NULL, statuses) <= 0 || absorb_strings(e, NULL, samples, NULL) <= 0 ||
        absorb_strings(e, NULL, ids, NULL) <= 0 || absorb_batches(NULL, batches) <= 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "a stored row's status counts, samples, ids or batches are not the JSON ascmon writes");
        return -1;
    }
    int64_t size = PyLong_AsLongLong(PyTuple_GET_ITEM(row, 20)), billed = PyLong_AsLongLong(PyTuple_GET_ITEM(row, 21));
    if ((size == -1 || billed == -1) && PyErr_Occurred()) return -1;
    Py_buffer digests;
    if (PyObject_GetBuffer(PyTuple_GET_ITEM(row, 19), &digests, PyBUF_SIMPLE) < 0) return -1;
    int64_t count = g->count, sum[4];
    memcpy(sum, g->sum, sizeof sum);
    int overflow = checked_add64(&count, n[0]);
    for (int i = 0; i < 4; i++) overflow |= checked_add64(&sum[i], n[1 + 3 * i]);
    if (overflow) {
        PyBuffer_Release(&digests);
        PyErr_SetString(PyExc_OverflowError,
                        "merging a batch into a stored aggregate would overflow a 64-bit sum; the batch is not stored");
        return -1;
    }
    /* everything is checked: from here on the group changes (only memory can still fail, and then the
     * engine is discarded with its batch) */
    g->count = count;
    memcpy(g->sum, sum, sizeof sum);
    for (int i = 0; i < 4; i++) {
        if (n[2 + 3 * i] < g->min[i]) g->min[i] = n[2 + 3 * i];
        if (n[3 + 3 * i] > g->max[i]) g->max[i] = n[3 + 3 * i];
    }
    if (first < g->first) g->first = first;
    if (last > g->last) g->last = last;
    int r = absorb_statuses(e, g, statuses);
    if (r > 0) r = absorb_strings(e, g, samples, take_sample);
    StoredIds held = {.n = 0};
    stored_ids = &held;
    if (r > 0) r = absorb_strings(e, g, ids, take_id);
    for (int i = held.n - 1; r > 0 && i >= 0; i--)
        if (group_add_id(e, g, held.ids[i], 1) < 0) r = -1;
    for (int i = 0; i < held.n; i++) free((void *)held.ids[i].p);
    if (r <= 0) {
        PyBuffer_Release(&digests);
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i + 8 <= digests.len; i += 8) {
        uint64_t d;
        memcpy(&d, (const char *)digests.buf + i, 8);
        if (group_add_object(g, d) < 0) { PyBuffer_Release(&digests); PyErr_NoMemory(); return -1; }
    }
    if (absorb_batches(g, batches) <= 0) { PyBuffer_Release(&digests); PyErr_NoMemory(); return -1; }
    PyBuffer_Release(&digests);
    g->old_size += size;
    g->old_billed += billed;
    g->absorbed = 1;
    return 0;
}

PyObject *Engine_absorb(Engine *e, PyObject *rows) {
    READY(e);
    PyObject *it = PyObject_GetIter(rows);
    if (!it) return NULL;
    PyObject *row;
    long long merged = 0;
    while ((row = PyIter_Next(it))) {
        int bad = absorb_row(e, row) < 0;
        Py_DECREF(row);
        if (bad) { Py_DECREF(it); return NULL; }
        merged++;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    return PyLong_FromLongLong(merged);
}

/* ---------------------------------------------------------------- JSON, COPY and times */

/* Bytes that JSON or COPY text escape, or that need decoding or checking (non-ASCII, '&', "sig="'s 's'). */
static uint8_t SPECIAL[256];

static void special_init(void) {
    for (int c = 0; c < 256; c++) SPECIAL[c] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '&';
}

/* No byte here needs escaping, decoding or repairing. */
static inline int plain_bytes(const char *p, size_t n) {
    uint8_t any = 0;
    for (size_t i = 0; i < n; i++) any |= SPECIAL[(uint8_t)p[i]];
    return !any;
}

static size_t json_len(const char *p, size_t n) {
    if (plain_bytes(p, n)) return n + 2;
    size_t len = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') len += 1;
        else if (c < 0x20) len += 5;
    }
    return len;
}

static int json_put(Buf *b, const char *p, size_t n) {
    if (plain_bytes(p, n)) {
        if (buf_reserve(b, n + 2) < 0) return -1;
        b->p[b->n] = '"';
        memcpy(b->p + b->n + 1, p, n);
        b->p[b->n + n + 1] = '"';
        b->n += n + 2;
        return 0;
    }
    if (buf_reserve(b, json_len(p, n)) < 0) return -1;
    char *o = b->p + b->n;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                        : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (esc) { memcpy(o, esc, 2); o += 2; }
        else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        }
        else *o++ = (char)c;
    }
    *o++ = '"';
    b->n = o - b->p;
    return 0;
}

/* v in decimal into out (at least 21 bytes); returns the length */
static int put_int(char *out, int64_t v) {
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do tmp[n++] = (char)('0' + u % 10); while (u /= 10);
    int len = 0;
    if (v < 0) out[len++] = '-';
    while (n) out[len++] = tmp[--n];
    return len;
}

static size_t digits_of(int64_t v) {
    size_t n = v < 0 ? 2 : 1;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (u >= 10) u /= 10, n++;
    return n;
}

static inline void two_digits(char *out, int v) { out[0] = (char)('0' + v / 10), out[1] = (char)('0' + v % 10); }


static void civil(int64_t days, int *y, int *m, int *d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* microseconds since 1970 as PostgreSQL COPY text (always with microseconds, +00) or as Django stores a
 * datetime in SQLite (str() of the naive UTC datetime: microseconds only when not zero) */
static int time_text(int64_t us, int style, char *out) {
    int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    int micro = (int)(us - secs * 1000000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int rem = (int)(secs - days * 86400);
    int y, m, d;
    civil(days, &y, &m, &d);
    /* "YYYY-MM-DD HH:MM:SS" */
    two_digits(out, y / 100), two_digits(out + 2, y % 100), out[4] = '-', two_digits(out + 5, m), out[7] = '-';
    two_digits(out + 8, d), out[10] = ' ', two_digits(out + 11, rem / 3600), out[13] = ':';
    two_digits(out + 14, rem / 60 % 60), out[16] = ':', two_digits(out + 17, rem % 60);
    int n = 19;
    if (micro) {
        out[n++] = '.';
        for (int i = 5, v = micro; i >= 0; i--, v /= 10) out[n + i] = (char)('0' + v % 10);
        n += 6;
    }
    return n;
}

/* ---------------------------------------------------------------- one row */

enum { C_KIND, C_OP, C_HCLASS, C_AUTH, C_PKIND, C_PID, C_LABEL, C_UPN, C_APP, C_IP, C_UA, C_CONTAINER, C_OBJECT,
       NTEXT };
static const char *const TEXT_KEYS[NTEXT] = {NULL, "operation", NULL, NULL, "principal_kind", "principal_id",
                                             "principal_label", "upn", "app_id", "client_ip", "user_agent",
                                             "container", "object_key"};
static const int TEXT_KEY_LEN[NTEXT] = {0, 9, 0, 0, 14, 12, 15, 3, 6, 9, 10, 9, 10};

typedef struct {
    Span text[NTEXT]; /* each column's output form: the key's own bytes when plain, else in backing[] */
    Buf backing[NTEXT];
    Buf statuses, samples, ids, batches, scratch;
} RowBufs;

static void rowbufs_free(RowBufs *r) {
    for (int i = 0; i < NTEXT; i++) free(r->backing[i].p);
    free(r->statuses.p);
    free(r->samples.p);
    free(r->ids.p);
    free(r->batches.p);
    free(r->scratch.p);
}

static int percent_decoded(Span s, Buf *out) {
    out->n = 0;
    for (Py_ssize_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        int hi, lo;
        if (c == '%' && i + 2 < s.n &&
            (hi = ISDIGIT(s.p[i + 1]) ? s.p[i + 1] - '0' : ((s.p[i + 1] | 0x20) >= 'a' && (s.p[i + 1] | 0x20) <= 'f') ? (s.p[i + 1] | 0x20) - 'a' + 10 : -1) >= 0 &&
            (lo = ISDIGIT(s.p[i + 2]) ? s.p[i + 2] - '0' : ((s.p[i + 2] | 0x20) >= 'a' && (s.p[i + 2] | 0x20) <= 'f') ? (s.p[i + 2] | 0x20) - 'a' + 10 : -1) >= 0) {
            if (buf_byte(out, (char)(hi * 16 + lo)) < 0) return -1;
            i += 2;
        } else if (buf_byte(out, c) < 0) {
            return -1;
        }
    }
    return 0;
}

/* "SAS token (expires …, permissions …)" from a token's visible fields ("k=v&k=v", sorted) */
static int sas_label(Engine *e, Span fields, Buf *out) {
    Span se = {NULL, 0}, sp = {NULL, 0};
    const char *p = fields.p, *end = fields.p + fields.n;
    while (p < end) {
        const char *amp = memchr(p, '&', end - p), *stop = amp ? amp : end;
        if (stop - p >= 3 && memcmp(p, "se=", 3) == 0 && !se.p) se = (Span){p + 3, stop - p - 3};
        if (stop - p >= 3 && memcmp(p, "sp=", 3) == 0 && !sp.p) sp = (Span){p + 3, stop - p - 3};
        p = amp ? amp + 1 : end;
    }
    Buf raw = {0}, part = {0};
    int bad = buf_str(&raw, "SAS token") < 0;
    if (!bad && (se.p || sp.p)) bad = buf_str(&raw, " (") < 0;
    if (!bad && se.p) bad = buf_str(&raw, "expires ") < 0 || percent_decoded(se, &part) < 0 || buf_put(&raw, part.p, part.n) < 0;
    if (!bad && se.p && sp.p) bad = buf_str(&raw, ", ") < 0;
    if (!bad && sp.p) bad = buf_str(&raw, "permissions ") < 0 || percent_decoded(sp, &part) < 0 || buf_put(&raw, part.p, part.n) < 0;
    if (!bad && (se.p || sp.p)) bad = buf_byte(&raw, ')') < 0;
    int r = bad ? engine_nomem(e) : out_text(e, (Span){raw.p, (Py_ssize_t)raw.n}, 0, out);
    free(raw.p);
    free(part.p);
    return r;
}

static void put_literal(RowBufs *r, int column, const char *s) { r->text[column] = (Span){s, (Py_ssize_t)strlen(s)}; }

/* A column's output form (out_text), without a copy when the raw bytes are already it. */
static int text_col(Engine *e, RowBufs *r, int column, Span raw, int unescape) {
    if (plain_bytes(raw.p, raw.n)) {
        r->text[column] = raw;
        return 0;
    }
    Buf *b = &r->backing[column];
    if (out_text(e, raw, unescape, b) < 0) return -1;
    r->text[column] = (Span){b->p ? b->p : "", (Py_ssize_t)b->n};
    return 0;
}

/* The row's text columns in their output form, and its principal. */
static int row_texts(Engine *e, Group *g, RowBufs *r, int exact) {
    Span f[WIDTH];
    key_fields(e, g, f);
    int flags = e->flags[g->kind];
    put_literal(r, C_KIND, KIND_NAMES[g->kind]);
    if (text_col(e, r, C_OP, f[OP], 0) < 0 || text_col(e, r, C_HCLASS, f[HCLASS], 0) < 0 ||
        text_col(e, r, C_AUTH, f[AUTH], 0) < 0 || text_col(e, r, C_UPN, f[UPN], 1) < 0 ||
        text_col(e, r, C_APP, f[APPID], 1) < 0 || text_col(e, r, C_IP, f[IP], 0) < 0 ||
        text_col(e, r, C_UA, f[UA], 1) < 0 || text_col(e, r, C_CONTAINER, f[CONTAINER], 1) < 0)
        return -1;
    Span object = (flags & POLICY_OBJECT) ? f[OBJECT] : (Span){"", 0};
    if (find_signature(object.p, object.n)) { /* stored object names never hold a SAS signature */
        Buf *b = &r->backing[C_OBJECT];
        if (out_text(e, object, 1, b) < 0) return -1;
        if (redact_signatures(b) < 0) return engine_nomem(e);
        r->text[C_OBJECT] = (Span){b->p ? b->p : "", (Py_ssize_t)b->n};
    } else if (text_col(e, r, C_OBJECT, object, 1) < 0) {
        return -1;
    }
    r->text[C_LABEL] = (Span){"", 0};
    if (!(flags & POLICY_PRINCIPAL)) {
        r->text[C_PKIND] = r->text[C_PID] = (Span){"", 0};
        return 0;
    }
    Span auth = f[AUTH];
#define IS(s, lit) ((s).n == (Py_ssize_t)strlen(lit) && memcmp((s).p, lit, (s).n) == 0)
    Span who = f[REQUESTER];
    const char *kind = NULL;
    if (IS(auth, "authenticated")) kind = "account";
    else if (IS(auth, "bearer")) kind = "oauth", who = f[OID];
    else if (IS(auth, "anonymous")) kind = "anonymous", who = (Span){"", 0};
    else if (IS(auth, "sas")) {
        Span sig = f[SIG];
        if (sig.n && sig.p[0] == '#') {
            kind = "sas";
            who = (Span){sig.p + 1, sig.n - 1};
        } else {
            uint8_t digest[32] = {0};
            char hex[32];
            if (exact) sha256(sig.p, sig.n, digest);
            hex_of(digest, 8, hex);
            Buf *id = &r->backing[C_PID], *label = &r->backing[C_LABEL];
            id->n = 0;
            if (buf_put(id, hex, 16) < 0) return engine_nomem(e);
            put_literal(r, C_PKIND, "sas_fields");
            r->text[C_PID] = (Span){id->p, 16};
            if (sas_label(e, sig, label) < 0) return -1;
            r->text[C_LABEL] = (Span){label->p ? label->p : "", (Py_ssize_t)label->n};
            return 0;
        }
    }
#undef IS
    if (kind) put_literal(r, C_PKIND, kind);
    else if (text_col(e, r, C_PKIND, auth.n ? auth : (Span){"unknown", 7}, 0) < 0) return -1;
    return text_col(e, r, C_PID, who, 1);
}

static int status_cmp(const void *a, const void *b) {
    const Status *x = a, *y = b;
    int c = memcmp(x->code.p, y->code.p, x->code.n < y->code.n ? x->code.n : y->code.n);
    return c ? c : (x->code.n > y->code.n) - (x->code.n < y->code.n);
}

/* status_counts, sample_objects and sample_request_ids as compact JSON */
static int row_json(Engine *e, Group *g, RowBufs *r) {
    if (g->nst > 1) qsort(g->st, g->nst, sizeof(Status), status_cmp);
    Buf *b = &r->statuses;
    b->n = 0;
    if (buf_byte(b, '{') < 0) return engine_nomem(e);
    for (int i = 0; i < g->nst; i++) {
        char num[24];
        Span code = {g->st[i].code.p, g->st[i].code.n};
        if (!plain_bytes(code.p, code.n)) {
            if (out_text(e, code, 0, &r->scratch) < 0) return -1;
            code = (Span){r->scratch.p, (Py_ssize_t)r->scratch.n};
        }
        if ((i && buf_byte(b, ',') < 0) || json_put(b, code.p, code.n) < 0 || buf_byte(b, ':') < 0 ||
            buf_put(b, num, put_int(num, g->st[i].n)) < 0)
            return engine_nomem(e);
    }
    if (buf_byte(b, '}') < 0) return engine_nomem(e);
    b = &r->samples;
    b->n = 0;
    if (buf_byte(b, '[') < 0) return engine_nomem(e);
    for (int i = 0; i < g->nsamples; i++)
        if ((i && buf_byte(b, ',') < 0) || json_put(b, g->samples[i].p, g->samples[i].n) < 0)
            return engine_nomem(e);
    if (buf_byte(b, ']') < 0) return engine_nomem(e);
    b = &r->ids;
    b->n = 0;
    if (buf_byte(b, '[') < 0) return engine_nomem(e);
    for (int i = 0; i < g->nids; i++) {
        Span id = {g->ids[i].p, g->ids[i].n};
        if (!plain_bytes(id.p, id.n)) {
            if (out_text(e, id, 0, &r->scratch) < 0) return -1;
            id = (Span){r->scratch.p, (Py_ssize_t)r->scratch.n};
        }
        if ((i && buf_byte(b, ',') < 0) || json_put(b, id.p, id.n) < 0) return engine_nomem(e);
    }
    if (buf_byte(b, ']') < 0) return engine_nomem(e);
    b = &r->batches;
    b->n = 0;
    if (buf_byte(b, '[') < 0) return engine_nomem(e);
    for (uint32_t i = 0; i < g->nbatches; i++) {
        char num[24];
        if ((i && buf_byte(b, ',') < 0) || buf_put(b, num, put_int(num, g->batches[i])) < 0) return engine_nomem(e);
    }
    if (buf_byte(b, ']') < 0) return engine_nomem(e);
    return 0;
}

/* Bytes of aggregate.export(row) as one JSON line (see there: empty and derivable fields left out), and
 * what Log Analytics would bill for it as a row (aggregate.billed_size: its values as text). */
typedef struct { int64_t export, billed; } Sizes;

static Sizes row_sizes(const Group *g, const RowBufs *r) {
    Sizes s = {2, 0}; /* {} and the newline, less the last comma */
#define FIELD2(key, vlen, blen) (s.export += (int64_t)sizeof(key) - 1 + 2 + 1 + (int64_t)(vlen) + 1, s.billed += (int64_t)(blen))
#define FIELD(key, vlen) FIELD2(key, vlen, vlen)
    FIELD2("window_start", 22, 20);
    for (int i = C_OP; i < NTEXT; i++)
        if (TEXT_KEYS[i] && r->text[i].n) {
            s.export += TEXT_KEY_LEN[i] + 2 + 1 + (int64_t)json_len(r->text[i].p, r->text[i].n) + 1;
            s.billed += r->text[i].n;
        }
    FIELD("count", digits_of(g->count));
    FIELD2("first_time", 29, 27);
    FIELD("request_bytes", digits_of(g->sum[0]));
    FIELD("response_bytes", digits_of(g->sum[1]));
    FIELD("latency_ms_sum", digits_of(g->sum[2]));
    FIELD("server_ms_sum", digits_of(g->sum[3]));
    if (g->count > 1) {
        FIELD2("last_time", 29, 27);
        FIELD("request_bytes_min", digits_of(g->min[0]));
        FIELD("request_bytes_max", digits_of(g->max[0]));
        FIELD("response_bytes_min", digits_of(g->min[1]));
        FIELD("response_bytes_max", digits_of(g->max[1]));
        FIELD("latency_ms_min", digits_of(g->min[2]));
        FIELD("latency_ms_max", digits_of(g->max[2]));
        FIELD("server_ms_min", digits_of(g->min[3]));
        FIELD("server_ms_max", digits_of(g->max[3]));
        FIELD("distinct_objects", digits_of((int64_t)group_distinct(g)));
    }
    FIELD("status_counts", r->statuses.n);
    if (!r->text[C_OBJECT].n && g->nsamples) FIELD("sample_objects", r->samples.n);
    if (g->nids) FIELD("sample_request_ids", r->ids.n);
#undef FIELD
#undef FIELD2
    return s;
}

static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* the distinct objects' digests, sorted (8 bytes each, as stored) */
static int row_digests(const Group *g, Buf *out) {
    out->n = 0;
    size_t n = group_distinct(g);
    if (buf_reserve(out, n * 8 + 8) < 0) return -1;
    uint64_t *d = (uint64_t *)out->p;
    size_t k = 0;
    if (g->objects) {
        if (g->objects->has_zero) d[k++] = 0;
        for (size_t i = 0; i < g->objects->cap; i++)
            if (g->objects->slots[i]) d[k++] = g->objects->slots[i];
    } else {
        for (int i = 0; i < g->nobjects_inline; i++) d[k++] = g->objects_inline[i];
    }
    qsort(d, k, sizeof *d, u64_cmp);
    out->n = k * 8;
    return 0;
}

/* ---------------------------------------------------------------- emit */

enum { M_COPY, M_ROWS, M_STATS };

typedef struct {
    long long records, count, merged;
    int64_t request, response, bytes, old_bytes, billed, old_billed;
    long long kind_records[NKINDS], kind_count[NKINDS];
    int64_t kind_bytes[NKINDS];
} Totals;

/* PostgreSQL's binary COPY format: a signature, then per row the field count and each field as its
 * length and bytes (integers big-endian; timestamptz as microseconds since 2000; text, the JSON columns
 * included (storage_logs.models.JSONText), as its bytes; uuid as 16 bytes), then a trailer. No text to
 * escape and nothing for the server to parse. */
static const char COPY_SIGNATURE[] = "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0";
#define PG_EPOCH_US 946684800000000LL

static inline char *be32(char *o, uint32_t v) {
    o[0] = (char)(v >> 24), o[1] = (char)(v >> 16), o[2] = (char)(v >> 8), o[3] = (char)v;
    return o + 4;
}

static inline char *be64(char *o, uint64_t v) { return be32(be32(o, (uint32_t)(v >> 32)), (uint32_t)v); }

static inline char *field_bytes(char *o, const char *p, size_t n) {
    o = be32(o, (uint32_t)n);
    memcpy(o, p, n);
    return o + n;
}

static inline char *field_int8(char *o, int64_t v) { return be64(be32(o, 8), (uint64_t)v); }
static inline char *field_int4(char *o, int64_t v) { return be32(be32(o, 4), (uint32_t)v); }
static inline char *field_time(char *o, int64_t us) { return field_int8(o, us - PG_EPOCH_US); }

static inline char *field_json(char *o, const Buf *json) { return field_bytes(o, json->p ? json->p : "", json->n); }

static int copy_row(Buf *out, int64_t account, const Group *g, RowBufs *r, Buf *digests, Sizes size,
                    int width) {
    static const int order[] = {C_OP, C_HCLASS, C_AUTH, C_PKIND, C_PID, C_LABEL, C_UPN, C_APP, C_IP, C_UA,
                                C_CONTAINER, C_OBJECT};
    size_t need = 2 + 40 * 4 + 23 * 8 + 16 + r->statuses.n + r->samples.n + r->ids.n + r->batches.n + 4 + digests->n +
                  r->text[C_KIND].n;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) need += r->text[order[i]].n;
    if (buf_reserve(out, need) < 0) return -1;
    char *o = out->p + out->n;
    const int ncolumns = (int)(sizeof COLUMNS / sizeof COLUMNS[0]) - 1;
    o[0] = (char)(ncolumns >> 8), o[1] = (char)ncolumns;
    o += 2;
    o = field_int8(o, account);
    o = field_bytes(o, r->text[C_KIND].p, r->text[C_KIND].n);
    o = field_time(o, g->start * 60000000LL);
    o = field_time(o, (g->start + (width < 1440 ? width : 1440)) * 60000000LL);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        o = field_bytes(o, r->text[order[i]].p, r->text[order[i]].n);
    o = field_int8(o, g->count);
    o = field_time(o, g->first);
    o = field_time(o, g->last);
    for (int i = 0; i < 4; i++) o = field_int8(field_int8(field_int8(o, g->sum[i]), g->min[i]), g->max[i]);
    o = field_json(o, &r->statuses);
    o = field_int4(o, (int64_t)group_distinct(g));
    o = field_json(o, &r->samples);
    o = field_json(o, &r->ids);
    o = field_bytes(o, digests->p ? digests->p : "", digests->n);
    o = field_bytes(o, (const char *)g->key16, 16);
    o = field_int4(o, size.export);
    o = field_int4(o, size.billed);
    o = field_json(o, &r->batches);
    out->n = o - out->p;
    return 0;
}

static PyObject *tuple_row(long long account, const Group *g, RowBufs *r, Buf *digests, Sizes size, int width) {
    PyObject *row = PyTuple_New(40);
    if (!row) return NULL;
    int i = 0;
    char t[48], hex[32];
#define SET(o)                                    \
    do {                                          \
        PyObject *v_ = (o);                       \
        if (!v_) { Py_DECREF(row); return NULL; } \
        PyTuple_SET_ITEM(row, i++, v_);           \
    } while (0)
#define TEXT(b) SET(PyUnicode_DecodeUTF8((b).p ? (b).p : "", (Py_ssize_t)(b).n, "strict"))
    SET(PyLong_FromLongLong(account));
    TEXT(r->text[C_KIND]);
    SET(PyUnicode_FromStringAndSize(t, time_text(g->start * 60000000LL, T_DJANGO, t)));
    SET(PyUnicode_FromStringAndSize(t, time_text((g->start + (width < 1440 ? width : 1440)) * 60000000LL, T_DJANGO, t)));
    static const int order[] = {C_OP, C_HCLASS, C_AUTH, C_PKIND, C_PID, C_LABEL, C_UPN, C_APP, C_IP, C_UA,
                                C_CONTAINER, C_OBJECT};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) TEXT(r->text[order[k]]);
    SET(PyLong_FromLongLong(g->count));
    SET(PyUnicode_FromStringAndSize(t, time_text(g->first, T_DJANGO, t)));
    SET(PyUnicode_FromStringAndSize(t, time_text(g->last, T_DJANGO, t)));
    for (int k = 0; k < 4; k++) {
        SET(PyLong_FromLongLong(g->sum[k]));
        SET(PyLong_FromLongLong(g->min[k]));
        SET(PyLong_FromLongLong(g->max[k]));
    }
    TEXT(r->statuses);
    SET(PyLong_FromSize_t(group_distinct(g)));
    TEXT(r->samples);
    TEXT(r->ids);
    SET(PyBytes_FromStringAndSize(digests->p ? digests->p : "", (Py_ssize_t)digests->n));
    hex_of(g->key16, 16, hex);
    SET(PyUnicode_FromStringAndSize(hex, 32));
    SET(PyLong_FromLongLong(size.export));
    SET(PyLong_FromLongLong(size.billed));
    TEXT(r->batches);
#undef TEXT
#undef SET
    return row;
}

/* Drops the emitted groups and the windows that ended before cutoff; -1 (nothing changed) when out of
 * memory. */
static int compact(Engine *e, const uint8_t *gone, int64_t cutoff, int all) {
    Map groups, windows;
    if (map_init(&groups, 1024) < 0) return -1;
    if (map_init(&windows, 64) < 0) { map_free(&groups); return -1; }
    const char **keys = malloc((e->ng ? e->ng : 1) * sizeof(char *));
    if (!keys) goto fail;
    size_t kept = 0, wkept = 0;
    for (size_t i = 0; i < e->ng; i++) {
        if (gone[i]) continue;
        int inserted;
        if (map_put(&groups, e->g[i].key, e->g[i].klen, (int32_t)kept, &inserted, &keys[kept]) < 0) goto fail;
        kept++;
    }
    for (size_t i = 0; i < e->nw; i++) {
        if (all || e->w[i].end < cutoff) continue;
        char key[sizeof(int) + sizeof(int64_t)];
        int inserted;
        memcpy(key, &e->w[i].kind, sizeof(int));
        memcpy(key + sizeof(int), &e->w[i].start, sizeof(int64_t));
        if (map_get(&windows, key, sizeof key, (int32_t)wkept, &inserted) < 0) goto fail;
        wkept++;
    }
    kept = 0;
    for (size_t i = 0; i < e->ng; i++) {
        if (gone[i]) { group_free(&e->g[i]); continue; }
        e->g[kept] = e->g[i];
        e->g[kept].key = keys[kept];
        kept++;
    }
    free(keys);
    map_free(&e->groups);
    e->groups = groups;
    e->ng = kept;
    map_free(&e->by_key16);
    wkept = 0;
    for (size_t i = 0; i < e->nw; i++) {
        if (all || e->w[i].end < cutoff) u64set_free(&e->w[i].seen);
        else e->w[wkept++] = e->w[i];
    }
    map_free(&e->windows);
    e->windows = windows;
    e->nw = wkept;
    e->last_wi = -1;
    return 0;
fail:
    free(keys);
    map_free(&groups);
    map_free(&windows);
    return -1;
}

/* emit(mode="copy"|"rows"|"stats", account_id=0, cutoff=None, batch=0, limit=0): close the groups whose
 * window ends before `cutoff` (minutes since 1970; all when None) into rows, at most `limit` of them when
 * it is not 0 (the rest stay open for the next call, and so do all windows). Returns (new rows, merged
 * rows, totals): binary COPY data for PostgreSQL (bytes, header and trailer included), lists of tuples in
 * ROW_COLUMNS order, or None; merged rows are those of groups a stored row was absorbed into. Copy and
 * stats run without the GIL. Nothing changes when it fails. */
PyObject *Engine_emit(Engine *e, PyObject *args, PyObject *kwds) {
    READY(e);
    const char *mode_name = "rows";
    long long account = 0, batch = 0, limit = 0;
    PyObject *cutoff_arg = Py_None;
    static char *kwlist[] = {"mode", "account_id", "cutoff", "batch", "limit", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|sLOLL", kwlist, &mode_name, &account, &cutoff_arg, &batch,
                                     &limit))
        return NULL;
    int mode = !strcmp(mode_name, "copy") ? M_COPY : !strcmp(mode_name, "rows") ? M_ROWS
             : !strcmp(mode_name, "stats") ? M_STATS : -1;
    if (mode < 0) return PyErr_Format(PyExc_ValueError, "mode is copy, rows or stats");
    if (limit < 0) return PyErr_Format(PyExc_ValueError, "limit is 0 (no limit) or more");
    int all = cutoff_arg == Py_None;
    int64_t cutoff = all ? 0 : PyLong_AsLongLong(cutoff_arg);
    if (!all && cutoff == -1 && PyErr_Occurred()) return NULL;
    RowBufs r;
    memset(&r, 0, sizeof r);
    Buf copy[2] = {{0}, {0}}, digests = {0}; /* new rows, merged rows */
    if (!SPECIAL['"']) special_init();
    Totals tot;
    memset(&tot, 0, sizeof tot);
    PyObject *rows[2] = {NULL, NULL}, *out[2] = {NULL, NULL}, *totals = NULL, *result = NULL;
    uint8_t *gone = calloc(e->ng ? e->ng : 1, 1);
    if (!gone || (mode == M_ROWS && (!(rows[0] = PyList_New(0)) || !(rows[1] = PyList_New(0))))) goto done;
    int bad = 0, stopped = 0;
    if (mode != M_ROWS) { /* nothing below touches a Python object but through hold_gil */
        e->busy = 1;
        e->held = 0;
        e->nogil = PyEval_SaveThread();
    }
    for (size_t i = 0; i < e->ng && !bad; i++) {
        Group *g = &e->g[i];
        int width = e->width[g->kind];
        if (!all && g->start + (width < 1440 ? width : 1440) >= cutoff) continue;
        if (limit && tot.records >= limit) { stopped = 1; break; }
        gone[i] = 1;
        /* figures only: no group key, and a SAS token's id is 16 hex digits whatever they are */
        if (batch > 0 && group_add_batch(g, batch) < 0) { bad = engine_nomem(e); break; }
        if ((mode != M_STATS && group_key16(e, g) < 0) || row_texts(e, g, &r, mode != M_STATS) < 0 ||
            row_json(e, g, &r) < 0) { bad = -1; break; }
        Sizes size = row_sizes(g, &r);
        tot.records++;
        tot.count += g->count;
        tot.request += g->sum[0];
        tot.response += g->sum[1];
        tot.bytes += size.export;
        tot.billed += size.billed;
        tot.kind_records[g->kind]++;
        tot.kind_count[g->kind] += g->count;
        tot.kind_bytes[g->kind] += size.export;
        if (g->absorbed) tot.merged++, tot.old_bytes += g->old_size, tot.old_billed += g->old_billed;
        if (mode == M_STATS) continue;
        if (row_digests(g, &digests) < 0) { bad = engine_nomem(e); break; }
        int which = g->absorbed;
        if (mode == M_COPY) {
            if ((!copy[which].n && buf_put(&copy[which], COPY_SIGNATURE, sizeof COPY_SIGNATURE - 1) < 0) ||
                copy_row(&copy[which], account, g, &r, &digests, size, width) < 0) { bad = engine_nomem(e); break; }
        } else {
            PyObject *row = tuple_row(account, g, &r, &digests, size, width);
            if (!row || PyList_Append(rows[which], row) < 0) { Py_XDECREF(row); bad = -1; break; }
            Py_DECREF(row);
        }
    }
    for (int k = 0; k < 2 && !bad; k++)
        if (copy[k].n && buf_put(&copy[k], "\377\377", 2) < 0) bad = engine_nomem(e); /* the trailer */
    if (mode != M_ROWS) {
        PyThreadState *state = e->nogil;
        e->nogil = NULL;
        PyEval_RestoreThread(state);
        e->busy = 0;
    }
    if (bad) goto done;
    for (int k = 0; k < 2; k++)
        out[k] = mode == M_COPY ? PyBytes_FromStringAndSize(copy[k].p ? copy[k].p : "", (Py_ssize_t)copy[k].n)
               : mode == M_ROWS ? Py_NewRef(rows[k]) : Py_NewRef(Py_None);
    PyObject *by_kind = PyDict_New();
    for (int k = 0; by_kind && k < NKINDS; k++) {
        PyObject *v = Py_BuildValue("(LLL)", tot.kind_records[k], tot.kind_count[k], (long long)tot.kind_bytes[k]);
        if (!v || PyDict_SetItemString(by_kind, KIND_NAMES[k], v) < 0) { Py_XDECREF(v); Py_CLEAR(by_kind); }
        else Py_DECREF(v);
    }
    totals = by_kind ? Py_BuildValue("{sLsLsLsLsLsLsLsLsLsN}", "records", tot.records, "count", tot.count,
                                     "request_bytes", (long long)tot.request, "response_bytes", (long long)tot.response,
                                     "aggregate_bytes", (long long)tot.bytes, "billed_bytes", (long long)tot.billed,
                                     "merged", tot.merged, "stored_bytes_before", (long long)tot.old_bytes,
                                     "stored_billed_before", (long long)tot.old_billed, "by_kind", by_kind)
                     : NULL;
    if (!out[0] || !out[1] || !totals) goto done;
    /* Rebuilding the maps costs a pass over every open group: only when something closed (reduce_logs
     * asks after every chunk, and most chunks close nothing). Stopped at the limit, windows stay. */
    int closing = tot.records > 0;
    for (size_t i = 0; !closing && !stopped && i < e->nw; i++) closing = all || e->w[i].end < cutoff;
    result = PyTuple_Pack(3, out[0], out[1], totals);
    if (result && closing && compact(e, gone, stopped ? INT64_MIN : cutoff, all && !stopped) < 0) {
        Py_CLEAR(result);
        PyErr_NoMemory();
    }
done:
    free(gone);
    for (int k = 0; k < 2; k++) free(copy[k].p), Py_XDECREF(rows[k]), Py_XDECREF(out[k]);
    free(digests.p);
    rowbufs_free(&r);
    Py_XDECREF(totals);
    if (!result && !PyErr_Occurred()) PyErr_NoMemory();
    return result;
}
