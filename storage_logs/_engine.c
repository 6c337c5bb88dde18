/* The storage log engine: parse (storage_logs/_engine_parse.c) and aggregate log lines, and hand the
 * aggregates over ready to store (storage_logs/_engine_emit.c).
 *
 * Semantics are documented in storage_logs/aggregate.py; this file is their one implementation. A policy
 * per kind (read, write, delete, other) names the record positions that make two operations "the same"
 * and the width of their time window. A group keeps count, first/last time, sums/min/max of four
 * measures (checked: a line that would overflow a sum is rejected with a reason), status counts, its
 * distinct objects (8-byte digests, so merges with stored rows stay exact), the three smallest objects as
 * samples and the first two request ids. A line whose (request id, operation count) was seen before is a
 * repeat: counted apart, never aggregated. Repeats are told per window (offline reduction, windows freed
 * as they close) or, once `know` was called, across everything the engine knows (ingestion, where the
 * digests of earlier batches and hours come from the database). */
#include "_engine_core.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---------------------------------------------------------------- kinds, SAS identities, windows */

static int engine_kind(Engine *e, Span op) {
    if (op.n == e->last_op_len && memcmp(op.p, e->last_op, op.n) == 0) return e->last_kind;
    int inserted;
    int32_t kind = map_get(&e->ops, op.p, (uint32_t)op.n, -1, &inserted);
    if (kind < 0) {
        hold_gil(e);
        PyObject *name = PyUnicode_DecodeUTF8(op.p, op.n, "replace");
        PyObject *r = name ? PyObject_CallOneArg(e->kind_of, name) : NULL;
        Py_XDECREF(name);
        long k = r ? PyLong_AsLong(r) : -1;
        Py_XDECREF(r);
        if (r && (k < 0 || k >= NKINDS) && !PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "kind_of returned no kind index");
        drop_gil(e);
        if (k < 0 || k >= NKINDS) return -1;
        if (map_get(&e->ops, op.p, (uint32_t)op.n, (int32_t)k, &inserted) < 0) return engine_nomem(e);
        kind = (int32_t)k;
    }
    if (op.n <= (Py_ssize_t)sizeof e->last_op) {
        memcpy(e->last_op, op.p, op.n);
        e->last_op_len = op.n;
        e->last_kind = kind;
    }
    return kind;
}

/* A classic SAS query (as written) becomes its visible fields (parse.sas_fields); queries only Python
 * reads the same way go to it once each. The result lives until the next call. */
static int engine_settle(Engine *e, Span *sig) {
    int ok = sas_fields(*sig, &e->sasbuf);
    if (ok < 0) return engine_nomem(e);
    if (ok) {
        *sig = (Span){e->sasbuf.p ? e->sasbuf.p : "", (Py_ssize_t)e->sasbuf.n};
        return 0;
    }
    int inserted;
    int32_t i = map_get(&e->settled, sig->p, (uint32_t)sig->n, -1, &inserted);
    if (i < 0) {
        hold_gil(e);
        PyObject *query = PyUnicode_DecodeUTF8(sig->p, sig->n, "replace");
        PyObject *r = query ? PyObject_CallOneArg(e->settle, query) : NULL;
        Py_XDECREF(query);
        PyObject *b = r ? PyUnicode_AsUTF8String(r) : NULL;
        Py_XDECREF(r);
        int fail = !b || PyList_Append(e->settled_values, b) < 0;
        Py_XDECREF(b);
        drop_gil(e);
        if (fail) return -1;
        i = map_get(&e->settled, sig->p, (uint32_t)sig->n, (int32_t)PyList_GET_SIZE(e->settled_values) - 1,
                    &inserted);
        if (i < 0) return engine_nomem(e);
    }
    /* the list only grows, under this engine (busy): its items stay put without the GIL */
    PyObject *b = PyList_GET_ITEM(e->settled_values, i);
    *sig = (Span){PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b)};
    return 0;
}

/* Window start in minutes since 1970 (DATE/HH/MM are checked by the parsers). */
static int64_t window_start(Span date, Span hh, Span mm, int width) {
    if (date.n != 10 || hh.n != 2 || mm.n != 2) return -1;
    const char *d = date.p;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? d[i] != '-' : !ISDIGIT(d[i])) return -1;
    if (!ISDIGIT(hh.p[0]) || !ISDIGIT(hh.p[1]) || !ISDIGIT(mm.p[0]) || !ISDIGIT(mm.p[1])) return -1;
    if (!real_time(d, hh.p, mm.p)) return -1;
    int year = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    int month = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
    int h = (hh.p[0] - '0') * 10 + (hh.p[1] - '0'), m = (mm.p[0] - '0') * 10 + (mm.p[1] - '0');
    int64_t start = days_from_civil(year, month, day) * 1440;
    if (width < 1440) start += h * 60;
    if (width < 60) start += (m / width) * width;
    return start;
}

static U64Set *window_seen(Engine *e, int kind, int64_t start) {
    if (e->last_wi >= 0 && kind == e->last_wkind && start == e->last_wstart) return &e->w[e->last_wi].seen;
    char key[sizeof kind + sizeof start];
    memcpy(key, &kind, sizeof kind);
    memcpy(key + sizeof kind, &start, sizeof start);
    int inserted;
    int32_t wi = map_get(&e->windows, key, sizeof key, (int32_t)e->nw, &inserted);
    if (wi < 0) return NULL;
    if (inserted) {
        if (e->nw == e->capw) {
            size_t cap = e->capw ? e->capw * 2 : 16;
            Window *w = realloc(e->w, cap * sizeof(Window));
            if (!w) return NULL;
            e->w = w;
            e->capw = cap;
        }
        e->w[e->nw].kind = kind;
        e->w[e->nw].start = start;
        e->w[e->nw].end = start + (e->width[kind] < 1440 ? e->width[kind] : 1440);
        if (u64set_init(&e->w[e->nw].seen, 1024) < 0) return NULL;
        e->nw++;
    }
    e->last_wi = wi;
    e->last_wkind = kind;
    e->last_wstart = start;
    return &e->w[wi].seen;
}

/* ---------------------------------------------------------------- adding one record */

static int reject(Engine *e, PyObject *callback, Span line, const char *reason) {
    e->rejected++;
    if (callback == Py_None) return 0;
    hold_gil(e);
    PyObject *text = line.p ? PyBytes_FromStringAndSize(line.p, line.n) : Py_NewRef(Py_None);
    PyObject *r = text ? PyObject_CallFunction(callback, "Os", text, reason) : NULL;
    Py_XDECREF(text);
    Py_XDECREF(r);
    drop_gil(e);
    return r ? 0 : -1;
}

/* Would adding these four measures overflow a sum of the group or the engine's raw totals? */
static int would_overflow(const Engine *e, const Group *g, const int64_t *value) {
    int64_t t;
    if (__builtin_add_overflow(e->raw_req, value[0], &t) || __builtin_add_overflow(e->raw_resp, value[1], &t))
        return 1;
    if (g) {
        if (__builtin_add_overflow(g->count, (int64_t)1, &t)) return 1;
        for (int i = 0; i < 4; i++)
            if (__builtin_add_overflow(g->sum[i], value[i], &t)) return 1;
    }
    return 0;
}

/* One record (its 25 fields as byte spans) into the engine: 0, or -1 with a Python error. `line` is the
 * raw line for a rejection's sample (empty for records from Python). */
static int engine_add(Engine *e, Span *f, int settled, Span line, PyObject *on_reject) {
    static const int measures[4] = {REQ, RESP, E2E, SRV};
    int64_t value[4], when;
    int ok = 1;
    for (int i = 0; i < 4; i++) value[i] = to_int(f[measures[i]], &ok);
    if (!ok) return reject(e, on_reject, line, "sizes and latencies must be whole numbers of at most 18 digits");
    if (!parse_time_us(f[TIME], &when)) return reject(e, on_reject, line, "the time is not a real UTC time");
    if (!settled) {
        int sas = f[AUTH].n == 3 && memcmp(f[AUTH].p, "sas", 3) == 0;
        if (!sas) f[SIG].n = 0;
        else if (engine_settle(e, &f[SIG]) < 0) return -1;
    }
    int kind = engine_kind(e, f[OP]);
    if (kind < 0) return -1;
    int width = e->width[kind];
    int64_t start = window_start(f[DATE], f[HH], f[MM], width);
    if (start < 0) return reject(e, on_reject, line, "the time is not a real UTC time");
    /* the repeat digest: (request id, operation count) */
    Buf *b = &e->key_buf;
    b->n = 0;
    if (buf_put(b, f[RID].p, f[RID].n) < 0 || buf_byte(b, '/') < 0 || buf_put(b, f[OPC].p, f[OPC].n) < 0)
        return engine_nomem(e);
    uint64_t digest = request_digest(b->p, b->n);
    U64Set *seen = e->tracking ? &e->known : window_seen(e, kind, start);
    if (!seen) return engine_nomem(e);
    if (u64set_has(seen, digest)) {
        int64_t req = e->dup_req, resp = e->dup_resp;
        if (would_overflow(e, NULL, value) || checked_add64(&req, value[0]) || checked_add64(&resp, value[1]))
            return reject(e, on_reject, line, "its byte counts would overflow a 64-bit sum");
        e->dup_req = req;
        e->dup_resp = resp;
        e->raw_req += value[0];
        e->raw_resp += value[1];
        e->duplicates++;
        return 0;
    }
    /* the group's key: kind, window start, then each key field with its length */
    b->n = 0;
    size_t need = 1 + sizeof start;
    for (int i = 0; i < e->nkey[kind]; i++) need += sizeof(uint32_t) + f[e->key[kind][i]].n;
    if (buf_reserve(b, need) < 0) return engine_nomem(e);
    b->p[0] = (char)kind;
    memcpy(b->p + 1, &start, sizeof start);
    b->n = 1 + sizeof start;
    for (int i = 0; i < e->nkey[kind]; i++) {
        Span s = f[e->key[kind][i]];
        uint32_t len = (uint32_t)s.n;
        memcpy(b->p + b->n, &len, sizeof len);
        memcpy(b->p + b->n + sizeof len, s.p, s.n);
        b->n += sizeof len + s.n;
    }
    int inserted;
    int32_t gi = map_get(&e->groups, b->p, (uint32_t)b->n, -1, &inserted);
    if (gi == -2) return engine_nomem(e);
    if (would_overflow(e, gi >= 0 ? &e->g[gi] : NULL, value))
        return reject(e, on_reject, line, "its byte counts or latencies would overflow a 64-bit sum");
    if (u64set_add(seen, digest) < 0) return engine_nomem(e);
    if (e->tracking && buf_put(&e->fresh, &digest, sizeof digest) < 0) return engine_nomem(e);
    if (gi < 0) {
        gi = group_new(e, kind, start, b->p, (uint32_t)b->n);
        if (gi < 0) return -1;
    }
    e->raw_req += value[0];
    e->raw_resp += value[1];
    e->accepted++;
    if (when > e->latest) e->latest = when;
    e->last_gi = gi;
    return group_add(e, &e->g[gi], f, value, when);
}

/* ---------------------------------------------------------------- the Python type */

static int parse_policies(Engine *e, PyObject *policies) {
    PyObject *seq = PySequence_Fast(policies, "policies must be a sequence of (key indices, width, flags)");
    if (!seq) return -1;
    if (PySequence_Fast_GET_SIZE(seq) != NKINDS) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "one policy per kind (read, write, delete, other)");
        return -1;
    }
    for (int k = 0; k < NKINDS; k++) {
        PyObject *indices;
        int width, flags;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, k), "Oii", &indices, &width, &flags)) goto fail;
        PyObject *fast = PySequence_Fast(indices, "key indices must be a sequence");
        if (!fast) goto fail;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
        if (n > WIDTH || width < 1 || width > 1440) {
            Py_DECREF(fast);
            PyErr_SetString(PyExc_ValueError, "a policy has at most 25 key fields and a window of 1 to 1440 minutes");
            goto fail;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            long index = PyLong_AsLong(PySequence_Fast_GET_ITEM(fast, i));
            if (index < 0 || index >= WIDTH) {
                Py_DECREF(fast);
                if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "key index out of range");
                goto fail;
            }
            e->key[k][i] = (int)index;
        }
        e->nkey[k] = (int)n;
        e->width[k] = width;
        e->flags[k] = flags;
        Py_DECREF(fast);
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    return -1;
}

static int Engine_init(Engine *e, PyObject *args, PyObject *kwds) {
    PyObject *policies, *kind_of, *settle, *unescape;
    static char *kwlist[] = {"policies", "kind_of", "settle", "unescape", NULL};
    if (e->ready) {
        PyErr_SetString(PyExc_RuntimeError, "an Engine is initialised once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOO", kwlist, &policies, &kind_of, &settle, &unescape))
        return -1;
    if (parse_policies(e, policies) < 0) return -1;
    e->kind_of = Py_NewRef(kind_of);
    e->settle = Py_NewRef(settle);
    e->unescape = Py_NewRef(unescape);
    e->settled_values = PyList_New(0);
    e->last_wi = -1;
    e->last_op_len = -1;
    if (!e->settled_values || map_init(&e->ops, 64) < 0 || map_init(&e->settled, 64) < 0 ||
        map_init(&e->groups, 1024) < 0 || map_init(&e->windows, 64) < 0) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    e->ready = 1;
    return 0;
}

static void Engine_dealloc(Engine *e) {
    for (size_t i = 0; i < e->ng; i++) group_free(&e->g[i]);
    free(e->g);
    for (size_t i = 0; i < e->nw; i++) u64set_free(&e->w[i].seen);
    free(e->w);
    map_free(&e->ops);
    map_free(&e->settled);
    map_free(&e->groups);
    map_free(&e->windows);
    map_free(&e->by_key16);
    u64set_free(&e->known);
    free(e->key_buf.p);
    free(e->scratch.p);
    free(e->sasbuf.p);
    free(e->fresh.p);
    free(e->text.p);
    free(e->text2.p);
    Py_XDECREF(e->settled_values);
    Py_XDECREF(e->kind_of);
    Py_XDECREF(e->settle);
    Py_XDECREF(e->unescape);
    Py_TYPE(e)->tp_free((PyObject *)e);
}

/* A Python record (a tuple of 25 str) as spans. A str with no UTF-8 form (a lone surrogate from a JSON
 * "\ud800" escape) is encoded with U+FFFD in its place, kept alive in *held until the caller releases it. */
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

/* add_records(records, reject): records from the Python parser (SIG settled) */
static PyObject *Engine_add_records(Engine *e, PyObject *args) {
    READY(e);
    PyObject *records, *on_reject;
    if (!PyArg_ParseTuple(args, "OO", &records, &on_reject)) return NULL;
    PyObject *it = PyObject_GetIter(records);
    if (!it) return NULL;
    PyObject *record;
    Span f[WIDTH];
    while ((record = PyIter_Next(it))) {
        PyObject *held;
        int bad = record_spans(record, f, &held) < 0 || engine_add(e, f, 1, (Span){NULL, 0}, on_reject) < 0;
        Py_XDECREF(held);
        Py_DECREF(record);
        if (bad) { Py_DECREF(it); return NULL; }
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

/* One line's place: its byte range in the data and the group it joined (-1: a repeat or rejected). */
typedef struct { int64_t start, end; int32_t gi; } Placed;

/* Every line of [p, end) into the engine; with `placed` (else NULL), each line's Placed is appended to it.
 * A line the C parsers do not follow goes to fallback(line bytes), the Python parser, which returns a
 * record or None (rejected and counted there). 0, or -1 with a Python error. */
static int feed_lines(Engine *e, const char *p, const char *end, int fmt, PyObject *fallback,
                      PyObject *on_reject, long long *lines, long long *fast, Buf *placed) {
    const char *base = p;
    Span f[WIDTH];
    while (p < end) {
        ++*lines;
        const char *nl = memchr(p, '\n', end - p), *e_ = nl ? nl : end;
        Span line = {p, e_ - p};
        e->last_gi = -1;
        int parsed = fmt == FMT_CLEAN  ? parse_clean(p, e_, f)
                     : fmt == FMT_JSON ? parse_json(p, e_, f, &e->scratch)
                                       : parse_classic(p, e_, f);
        if (parsed) {
            if (engine_add(e, f, fmt != FMT_CLASSIC, line, on_reject) < 0) return -1;
            ++*fast;
        } else {
            /* the Python parser, with the GIL (engine_add nested inside takes it no deeper) */
            hold_gil(e);
            PyObject *bytes = PyBytes_FromStringAndSize(p, e_ - p);
            PyObject *record = bytes ? PyObject_CallOneArg(fallback, bytes) : NULL;
            Py_XDECREF(bytes);
            int bad = !record;
            if (record && record != Py_None) {
                Span rf[WIDTH];
                PyObject *held;
                bad = record_spans(record, rf, &held) < 0 || engine_add(e, rf, 1, line, on_reject) < 0;
                Py_XDECREF(held);
            }
            Py_XDECREF(record);
            drop_gil(e);
            if (bad) return -1;
        }
        p = nl ? nl + 1 : end;
        if (placed) {
            Placed at = {line.p - base, p - base, e->last_gi};
            if (buf_put(placed, &at, sizeof at) < 0) return engine_nomem(e);
        }
    }
    return 0;
}

/* feed_lines with the GIL released: the C parsers and the groups touch no Python object, and what calls
 * Python takes the GIL again for the call (hold_gil). The buffer stays valid: the caller holds its view. */
static int feed_without_gil(Engine *e, const char *p, const char *end, int fmt, PyObject *fallback,
                            PyObject *on_reject, long long *lines, long long *fast, Buf *placed) {
    e->busy = 1;
    e->held = 0;
    e->nogil = PyEval_SaveThread();
    int bad = feed_lines(e, p, end, fmt, fallback, on_reject, lines, fast, placed);
    PyThreadState *state = e->nogil;
    e->nogil = NULL;
    PyEval_RestoreThread(state);
    e->busy = 0;
    return bad;
}

/* feed(data, fmt, fallback, reject): every line of data (whole lines; a last line without \n counts too).
 * Returns (lines, lines parsed in C). */
static PyObject *Engine_feed(Engine *e, PyObject *args) {
    READY(e);
    Py_buffer view;
    int fmt;
    PyObject *fallback, *on_reject;
    if (!PyArg_ParseTuple(args, "y*iOO", &view, &fmt, &fallback, &on_reject)) return NULL;
    long long fast = 0, lines = 0;
    int bad = feed_without_gil(e, view.buf, (const char *)view.buf + view.len, fmt, fallback, on_reject, &lines,
                               &fast, NULL);
    PyBuffer_Release(&view);
    return bad ? NULL : Py_BuildValue("LL", lines, fast);
}

/* select(data, fmt, fallback, reject, key): feed the lines, and return the byte ranges [(start, end), ...]
 * (each with its newline) of those whose group has this 16-byte key: the lines of one stored aggregate,
 * told by the same grouping that built it. */
static PyObject *Engine_select(Engine *e, PyObject *args) {
    READY(e);
    Py_buffer view;
    int fmt;
    PyObject *fallback, *on_reject;
    const char *key;
    Py_ssize_t klen;
    if (!PyArg_ParseTuple(args, "y*iOOy#", &view, &fmt, &fallback, &on_reject, &key, &klen)) return NULL;
    PyObject *out = NULL;
    Buf placed = {0};
    long long fast = 0, lines = 0;
    if (klen != 16) {
        PyErr_SetString(PyExc_ValueError, "a group key is 16 bytes");
        goto done;
    }
    if (feed_without_gil(e, view.buf, (const char *)view.buf + view.len, fmt, fallback, on_reject, &lines, &fast,
                         &placed) < 0)
        goto done;
    if (!(out = PyList_New(0))) goto done;
    const Placed *at = (const Placed *)placed.p;
    for (size_t i = 0; i < placed.n / sizeof *at; i++) {
        if (at[i].gi < 0) continue;
        Group *g = &e->g[at[i].gi];
        if (group_key16(e, g) < 0) { Py_CLEAR(out); goto done; }
        if (memcmp(g->key16, key, 16)) continue;
        PyObject *range = Py_BuildValue("LL", (long long)at[i].start, (long long)at[i].end);
        if (!range || PyList_Append(out, range) < 0) { Py_XDECREF(range); Py_CLEAR(out); goto done; }
        Py_DECREF(range);
    }
done:
    free(placed.p);
    PyBuffer_Release(&view);
    return out;
}

/* know(digests): 8-byte request digests (as fresh_digests gives them) already counted; from now on repeats
 * are told across everything the engine knows, and the digests of new lines are kept for fresh_digests. */
static PyObject *Engine_know(Engine *e, PyObject *arg) {
    READY(e);
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    if (view.len % 8) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "digests come in 8 bytes each");
        return NULL;
    }
    if (!e->tracking) {
        if (e->ng || e->accepted) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_RuntimeError, "know() comes before the first line");
            return NULL;
        }
        if (u64set_init(&e->known, (size_t)(view.len / 8) * 2 + 1024) < 0) {
            PyBuffer_Release(&view);
            return PyErr_NoMemory();
        }
        e->tracking = 1;
    }
    const char *p = view.buf;
    for (Py_ssize_t i = 0; i < view.len; i += 8) {
        uint64_t d;
        memcpy(&d, p + i, 8);
        if (u64set_add(&e->known, d) < 0) {
            PyBuffer_Release(&view);
            return PyErr_NoMemory();
        }
    }
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* intersects(digests): how many of these digests are among the fresh ones (lines accepted since the last
 * take_fresh): another worker's lines this engine has counted too. */
static PyObject *Engine_intersects(Engine *e, PyObject *arg) {
    READY(e);
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    U64Set fresh;
    size_t n = e->fresh.n / 8;
    long long hits = 0;
    if (u64set_init(&fresh, n * 2 + 16) < 0) { PyBuffer_Release(&view); return PyErr_NoMemory(); }
    for (size_t i = 0; i < n; i++) {
        uint64_t d;
        memcpy(&d, e->fresh.p + 8 * i, 8);
        if (u64set_add(&fresh, d) < 0) { u64set_free(&fresh); PyBuffer_Release(&view); return PyErr_NoMemory(); }
    }
    const char *p = view.buf;
    for (Py_ssize_t i = 0; i + 8 <= view.len; i += 8) {
        uint64_t d;
        memcpy(&d, p + i, 8);
        hits += u64set_has(&fresh, d);
    }
    u64set_free(&fresh);
    PyBuffer_Release(&view);
    return PyLong_FromLongLong(hits);
}

/* take_fresh(): the digests of the lines accepted since the last call (they are known from now on). */
static PyObject *Engine_take_fresh(Engine *e, PyObject *unused) {
    READY(e);
    PyObject *out = PyBytes_FromStringAndSize(e->fresh.p ? e->fresh.p : "", (Py_ssize_t)e->fresh.n);
    if (out) e->fresh.n = 0;
    return out;
}

static PyObject *Engine_figures(Engine *e, PyObject *unused) {
    READY(e);
    return Py_BuildValue("{sLsLsLsLsLsLsLsLsn}", "accepted", e->accepted, "duplicates", e->duplicates,
                         "rejected", e->rejected, "duplicate_request", (long long)e->dup_req,
                         "duplicate_response", (long long)e->dup_resp, "raw_request", (long long)e->raw_req,
                         "raw_response", (long long)e->raw_resp, "latest_us", (long long)e->latest,
                         "groups", (Py_ssize_t)e->ng);
}

static PyMethodDef Engine_methods[] = {
    {"feed", (PyCFunction)Engine_feed, METH_VARARGS, "Parse and aggregate whole lines; (lines, lines parsed in C)."},
    {"select", (PyCFunction)Engine_select, METH_VARARGS, "Feed lines; the byte ranges of one group's lines."},
    {"add_records", (PyCFunction)Engine_add_records, METH_VARARGS, "Aggregate record tuples (SIG settled)."},
    {"know", (PyCFunction)Engine_know, METH_O, "Request digests already counted (8 bytes each)."},
    {"intersects", (PyCFunction)Engine_intersects, METH_O, "How many of these digests are fresh ones."},
    {"take_fresh", (PyCFunction)Engine_take_fresh, METH_NOARGS, "Digests of the lines accepted since."},
    {"figures", (PyCFunction)Engine_figures, METH_NOARGS, "Counters: accepted, duplicates, rejected, sums."},
    {"keys", (PyCFunction)Engine_keys, METH_NOARGS, "The 16-byte keys of the open groups, in order."},
    {"windows", (PyCFunction)Engine_windows, METH_NOARGS, "The open groups' window starts, sorted."},
    {"absorb", (PyCFunction)Engine_absorb, METH_O, "Merge stored rows into the open groups of their keys."},
    {"emit", (PyCFunction)Engine_emit, METH_VARARGS | METH_KEYWORDS, "Close groups into rows ready to store."},
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

/* sha256(data) -> digest: the hash the engine keys groups and SAS tokens by (checked against hashlib) */
static PyObject *module_sha256(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    uint8_t digest[32];
    sha256(view.buf, (size_t)view.len, digest);
    PyBuffer_Release(&view);
    return PyBytes_FromStringAndSize((const char *)digest, 32);
}

/* How many of the n bytes at p are ';' or '"'. Ingestion counts every byte it reads (about one in
 * twelve is one of them), on the thread that parses: 16 bytes at a time where SSE2 is (every x86-64),
 * about six times the byte loop's 1.7 GB/s. */
static Py_ssize_t count_syntax(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t count = 0, i = 0;
#ifdef __SSE2__
    const __m128i semicolon = _mm_set1_epi8(';'), quote = _mm_set1_epi8('"'), zero = _mm_setzero_si128();
    while (n - i >= 16) {
        /* per-lane counts in bytes: at most 255 rounds before they are summed */
        Py_ssize_t rounds = (n - i) / 16 < 255 ? (n - i) / 16 : 255;
        __m128i lanes = zero;
        for (Py_ssize_t r = 0; r < rounds; r++, i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(p + i));
            __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, semicolon), _mm_cmpeq_epi8(v, quote));
            lanes = _mm_sub_epi8(lanes, hit); /* a hit is -1 */
        }
        __m128i sums = _mm_sad_epu8(lanes, zero);
        count += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums));
    }
#endif
    for (; i < n; i++) count += (p[i] == ';') | (p[i] == '"');
    return count;
}

/* syntax_bytes(data): how many bytes of classic log lines are ';' separators or '"' quotes, which a
 * StorageBlobLogs row does not store (storage_logs/billing.py); counted without the GIL. */
static PyObject *module_syntax_bytes(PyObject *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *p = view.buf;
    Py_ssize_t n = view.len, count = 0;
    Py_BEGIN_ALLOW_THREADS
    count = count_syntax(p, n);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(count);
}

static PyMethodDef module_methods[] = {
    {"sha256", module_sha256, METH_O, "SHA-256 of bytes, as the engine computes it."},
    {"syntax_bytes", module_syntax_bytes, METH_O, "Separators and quotes in classic log lines."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_engine", NULL, -1, module_methods};

static int add_constants(PyObject *m) {
    static const char *fields[] = {"VER", "TIME", "DATE", "HH", "MM", "OP", "STATUS", "HTTP", "HCLASS", "E2E",
                                   "SRV", "AUTH", "REQUESTER", "SIG", "CONTAINER", "OBJECT", "RID", "OPC",
                                   "IP", "REQ", "RESP", "UA", "OID", "APPID", "UPN"};
    PyObject *positions = PyDict_New();
    if (!positions) return -1;
    for (int i = 0; i < WIDTH; i++) {
        PyObject *v = PyLong_FromLong(i);
        if (!v || PyDict_SetItemString(positions, fields[i], v) < 0) { Py_XDECREF(v); Py_DECREF(positions); return -1; }
        Py_DECREF(v);
    }
    PyObject *columns = row_columns();
    PyObject *legacy = PyTuple_New(0);
    for (const char *const *l = legacy_entities(); legacy && *l; l++) {
        PyObject *name = PyUnicode_FromString(*l);
        if (!name || _PyTuple_Resize(&legacy, PyTuple_GET_SIZE(legacy) + 1) < 0) { Py_XDECREF(name); legacy = NULL; break; }
        PyTuple_SET_ITEM(legacy, PyTuple_GET_SIZE(legacy) - 1, name);
    }
    if (!columns || !legacy || PyModule_AddObject(m, "POSITIONS", positions) < 0 ||
        PyModule_AddObject(m, "ROW_COLUMNS", columns) < 0 || PyModule_AddObject(m, "LEGACY_ENTITIES", legacy) < 0 ||
        PyModule_AddIntConstant(m, "WIDTH", WIDTH) < 0 || PyModule_AddIntConstant(m, "SAMPLES", SAMPLES) < 0 ||
        PyModule_AddIntConstant(m, "SAMPLE_IDS", SAMPLE_IDS) < 0 ||
        PyModule_AddIntConstant(m, "FMT_CLASSIC", FMT_CLASSIC) < 0 ||
        PyModule_AddIntConstant(m, "FMT_CLEAN", FMT_CLEAN) < 0 || PyModule_AddIntConstant(m, "FMT_JSON", FMT_JSON) < 0)
        return -1;
    return 0;
}

PyMODINIT_FUNC PyInit__engine(void) {
    if (PyType_Ready(&EngineType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "Engine", (PyObject *)&EngineType) < 0 || add_constants(m) < 0) {
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
