/*
 * weave_nb._speedups: the two hot paths of weave_nb in C.
 *
 *   LogFront.log        StreamTable.log()'s fast path: a dict of plain values with
 *                       keys already seen is copied, stamped and appended.
 *   CallFront.__call__  MonitoredFunction's fast path: the call's frame in a context
 *                       variable, two clocks, the call, and one append of a tuple.
 *
 * Both do exactly what their pure-Python references do (weave_nb/store/_log_front.py
 * and weave_nb/monitor/_call_front.py), and hand every other case to the same Python
 * methods; tests/test_speedups.py checks that the two agree. What remains in Python
 * is everything that can raise or needs a decision: the C code only takes values it
 * can prove plain, and never raises on its own account.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* Positions in a monitor frame, [key, trace, parent, sink, record]: the layout of
 * weave_nb.monitor._record.Frame (configure_calls() checks them). */
enum { FRAME_KEY, FRAME_TRACE, FRAME_PARENT, FRAME_SINK, FRAME_RECORD, FRAME_SIZE };

#define MAX_PLAIN_TYPES 16
static PyTypeObject *plain_types[MAX_PLAIN_TYPES];
static int n_plain_types = 0;

/* Set by configure_calls(); until then every call takes the Python path. */
static PyObject *current_var = NULL; /* ContextVar[Frame | None] */
static PyObject *counter = NULL;     /* itertools.count() of call keys */
static PyObject *switch_obj = NULL;  /* SWITCH: .enabled */
static PyObject *state_obj = NULL;   /* tracing STATE: .hooked */

static PyObject *str_enabled, *str_hooked, *str_call, *str_ended, *str_log_checked,
    *str_wait_for_room, *str_row_shape, *str_stamp;

/* -- clocks: the ones time.time_ns() and time.perf_counter_ns() read ---------- */

#if defined(CLOCK_REALTIME) && defined(CLOCK_MONOTONIC)
static inline int
wall_ns(long long *out)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    *out = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    return 0;
}

static inline int
monotonic_ns(long long *out)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    *out = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    return 0;
}
#else
static PyObject *time_ns_fn = NULL, *perf_counter_ns_fn = NULL;

static int
call_clock(PyObject *fn, long long *out)
{
    PyObject *value = PyObject_CallNoArgs(fn);
    if (value == NULL) {
        return -1;
    }
    *out = PyLong_AsLongLong(value);
    Py_DECREF(value);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static inline int wall_ns(long long *out) { return call_clock(time_ns_fn, out); }
static inline int monotonic_ns(long long *out) { return call_clock(perf_counter_ns_fn, out); }
#endif

static inline int
is_plain(PyObject *value)
{
    PyTypeObject *type = Py_TYPE(value);
    for (int i = 0; i < n_plain_types; i++) {
        if (plain_types[i] == type) {
            return 1;
        }
    }
    return 0;
}

static int
all_plain(PyObject *tuple)
{
    Py_ssize_t n = PyTuple_GET_SIZE(tuple);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!is_plain(PyTuple_GET_ITEM(tuple, i))) {
            return 0;
        }
    }
    return 1;
}

static int
all_plain_values(PyObject *dict)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!is_plain(value)) {
            return 0;
        }
    }
    return 1;
}

/* A new tuple of `n` new references (stolen), or NULL if one of them is NULL.
 * Left untracked by the garbage collector: callers pass plain values and tuples
 * of plain values only, which cannot be part of a cycle, and a backlog of tracked
 * tuples would make every collection meanwhile slower (the collector untracks
 * such tuples itself, but only once it has scanned them). */
static PyObject *
plain_tuple(Py_ssize_t n, PyObject **items)
{
    PyObject *tuple = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] == NULL) {
            goto fail;
        }
    }
    tuple = PyTuple_New(n);
    if (tuple == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(tuple, i, items[i]);
    }
    PyObject_GC_UnTrack(tuple);
    return tuple;
fail:
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(items[i]);
    }
    return NULL;
}

/* -- Intake ------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    PyObject *pending;
    Py_ssize_t kind;
    Py_ssize_t limit;
} IntakeObject;

static int
intake_init(IntakeObject *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"pending", "kind", "limit", NULL};
    PyObject *pending;
    Py_ssize_t kind, limit;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!nn:Intake", names, &PyList_Type,
                                     &pending, &kind, &limit)) {
        return -1;
    }
    Py_XSETREF(self->pending, Py_NewRef(pending));
    self->kind = kind;
    self->limit = limit;
    return 0;
}

static int
intake_traverse(IntakeObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->pending);
    return 0;
}

static int
intake_clear(IntakeObject *self)
{
    Py_CLEAR(self->pending);
    return 0;
}

static void
intake_dealloc(IntakeObject *self)
{
    PyObject_GC_UnTrack(self);
    intake_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef intake_members[] = {
    {"pending", T_OBJECT_EX, offsetof(IntakeObject, pending), READONLY,
     "The backlog: a list shared with the table's writer."},
    {"kind", T_PYSSIZET, offsetof(IntakeObject, kind), READONLY,
     "The number of the builder that turns this intake's payloads into columns."},
    {"limit", T_PYSSIZET, offsetof(IntakeObject, limit), 0,
     "The backlog limit; -1 once the table refuses rows."},
    {NULL},
};

static PyTypeObject IntakeType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "weave_nb._speedups.Intake",
    .tp_basicsize = sizeof(IntakeObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The backlog behind a deferred writer (see weave_nb.store.Intake).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)intake_init,
    .tp_traverse = (traverseproc)intake_traverse,
    .tp_clear = (inquiry)intake_clear,
    .tp_dealloc = (destructor)intake_dealloc,
    .tp_members = intake_members,
};

/* -- LogFront: StreamTable.log() ---------------------------------------------- */

#define MAX_SEEN_KEYS 32

typedef struct {
    PyObject_HEAD
    PyObject *pending;   /* list of pending items */
    PyObject *fast_keys; /* frozenset of column names a fast row may have */
    Py_ssize_t backlog_limit;
    /* The key objects of the last row checked against `seen_under` (a fast_keys):
     * the next row of one shape, from the same line of code, holds the same objects
     * in the same order, and is checked by comparing pointers. Held references, so
     * no other object can take their addresses. */
    PyObject *seen_under;
    PyObject *seen[MAX_SEEN_KEYS];
    Py_ssize_t n_seen;
    /* The builder of rows with the seen keys in that order, from _row_shape(); -1 for
     * none (rows are then copied as dicts). */
    Py_ssize_t shape_kind;
} LogFrontObject;

static void
forget_seen_keys(LogFrontObject *self)
{
    for (Py_ssize_t j = 0; j < self->n_seen; j++) {
        Py_CLEAR(self->seen[j]);
    }
    self->n_seen = 0;
    self->shape_kind = -1;
    Py_CLEAR(self->seen_under);
}

static void
remember_keys(LogFrontObject *self, PyObject *row, PyObject *keys)
{
    forget_seen_keys(self);
    if (PyDict_GET_SIZE(row) > MAX_SEEN_KEYS) {
        return;
    }
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        self->seen[self->n_seen++] = Py_NewRef(key);
    }
    self->seen_under = Py_NewRef(keys);
}

/* 1 if `row` may take the fast path: an exact dict whose keys are exact str in
 * `fast_keys` and whose values are plain. */
static int
is_fast_row(LogFrontObject *self, PyObject *row, int *reshaped)
{
    PyObject *keys = self->fast_keys;
    if (!PyDict_CheckExact(row) || keys == NULL || !PyFrozenSet_CheckExact(keys)) {
        return 0;
    }
    int same = self->seen_under == keys && PyDict_GET_SIZE(row) == self->n_seen;
    Py_ssize_t pos = 0, j = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        if (!is_plain(value)) {
            return 0;
        }
        if (same && key == self->seen[j++]) {
            continue;
        }
        same = 0;
        /* Exact str: hashing and comparing it runs no Python code that could
         * change the row while it is read. */
        if (!PyUnicode_CheckExact(key)) {
            return 0;
        }
        int known = PySet_Contains(keys, key);
        if (known <= 0) {
            if (known < 0) {
                PyErr_Clear();
            }
            return 0;
        }
    }
    if (!same) {
        remember_keys(self, row, keys);
        *reshaped = 1;
    }
    return 1;
}

/* The builder number _row_shape() gives the seen keys, or -1. */
static Py_ssize_t
shape_kind_of_seen(LogFrontObject *self)
{
    if (self->n_seen == 0) {
        return -1;
    }
    PyObject *keys = PyTuple_New(self->n_seen);
    if (keys == NULL) {
        return -2;
    }
    for (Py_ssize_t j = 0; j < self->n_seen; j++) {
        PyTuple_SET_ITEM(keys, j, Py_NewRef(self->seen[j]));
    }
    PyObject *kind = PyObject_CallMethodOneArg((PyObject *)self, str_row_shape, keys);
    Py_DECREF(keys);
    if (kind == NULL) {
        return -2;
    }
    Py_ssize_t number = PyLong_AsSsize_t(kind);
    Py_DECREF(kind);
    return (number == -1 && PyErr_Occurred()) ? -2 : (number < 0 ? -1 : number);
}

/* A row of the seen shape as a pending item: (stamp, kind, values in key order). */
static PyObject *
shape_item(PyObject *row, long long now, Py_ssize_t kind)
{
    PyObject *values = PyTuple_New(PyDict_GET_SIZE(row));
    if (values == NULL) {
        return NULL;
    }
    Py_ssize_t pos = 0, j = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        PyTuple_SET_ITEM(values, j++, Py_NewRef(value));
    }
    PyObject_GC_UnTrack(values); /* plain values only */
    PyObject *items[] = {PyLong_FromLongLong(now), PyLong_FromSsize_t(kind), values};
    return plain_tuple(3, items);
}

static PyObject *
logfront_log(LogFrontObject *self, PyObject *row)
{
    PyObject *pending = self->pending;
    int reshaped = 0;
    if (pending == NULL || !PyList_CheckExact(pending) || !is_fast_row(self, row, &reshaped)) {
        return PyObject_CallMethodOneArg((PyObject *)self, str_log_checked, row);
    }
    if (reshaped) {
        Py_ssize_t kind = shape_kind_of_seen(self);
        if (kind == -2) {
            forget_seen_keys(self); /* asked again with the next row */
            return NULL;
        }
        self->shape_kind = kind;
    }
    long long now;
    if (wall_ns(&now) < 0) {
        return NULL;
    }
    Py_INCREF(pending); /* allocating may collect garbage, and a finalizer may run */
    int appended;
    if (self->shape_kind >= 0) {
        /* A tuple of the values: a third of a dict copy's memory, nothing to resize. */
        PyObject *item = shape_item(row, now, self->shape_kind);
        appended = item != NULL && PyList_Append(pending, item) == 0;
        Py_XDECREF(item);
    }
    else {
        PyObject *copy = PyDict_Copy(row);
        PyObject *stamp = copy != NULL ? PyLong_FromLongLong(now) : NULL;
        appended = stamp != NULL && PyDict_SetItem(copy, str_stamp, stamp) == 0 &&
                   PyList_Append(pending, copy) == 0;
        Py_XDECREF(stamp);
        Py_XDECREF(copy);
    }
    Py_ssize_t backlog = PyList_GET_SIZE(pending);
    Py_DECREF(pending);
    if (!appended) {
        return NULL;
    }
    if (backlog > self->backlog_limit) {
        return PyObject_CallMethodNoArgs((PyObject *)self, str_wait_for_room);
    }
    Py_RETURN_NONE;
}

static int
logfront_traverse(LogFrontObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->pending);
    Py_VISIT(self->fast_keys);
    Py_VISIT(self->seen_under);
    return 0;
}

static int
logfront_clear(LogFrontObject *self)
{
    Py_CLEAR(self->pending);
    Py_CLEAR(self->fast_keys);
    forget_seen_keys(self);
    return 0;
}

static void
logfront_dealloc(LogFrontObject *self)
{
    PyObject_GC_UnTrack(self);
    logfront_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMemberDef logfront_members[] = {
    {"_pending", T_OBJECT_EX, offsetof(LogFrontObject, pending), 0,
     "The rows stream's pending list."},
    {"_fast_keys", T_OBJECT_EX, offsetof(LogFrontObject, fast_keys), 0,
     "Column names a row of plain values may have to take the fast path."},
    {"_backlog_limit", T_PYSSIZET, offsetof(LogFrontObject, backlog_limit), 0,
     "Pending items past which log() waits for the flusher."},
    {NULL},
};

static PyMethodDef logfront_methods[] = {
    {"log", (PyCFunction)logfront_log, METH_O,
     "log(row)\n--\n\n"
     "Append one row (a mapping) or many (a list of mappings).\n"
     "\n"
     "Keys are column names; values may be scalars, ``None``, ``str``, ``bytes``,\n"
     "nested dicts and lists, datetimes, numpy scalars and arrays, pandas\n"
     "timestamps, dataclasses, PIL images or :class:`weave_nb.Image`. ``_id`` is\n"
     "kept if given (else generated), ``_timestamp`` is the time of this call.\n"
     "A value that cannot be stored raises ``TypeError``/``ValueError`` here,\n"
     "naming the column and the type; for a list, no row of it is accepted."},
    {NULL},
};

static PyTypeObject LogFrontType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "weave_nb._speedups.LogFront",
    .tp_basicsize = sizeof(LogFrontObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Base of TableWriter: the fast path of log() (see weave_nb.store._log_front).",
    .tp_new = PyType_GenericNew,
    .tp_traverse = (traverseproc)logfront_traverse,
    .tp_clear = (inquiry)logfront_clear,
    .tp_dealloc = (destructor)logfront_dealloc,
    .tp_members = logfront_members,
    .tp_methods = logfront_methods,
};

/* -- CallFront: MonitoredFunction.__call__ ------------------------------------ */

typedef struct {
    PyObject_HEAD
    PyObject *wrapped;    /* the monitored function */
    PyObject *sink;       /* its CallSink */
    IntakeObject *intake; /* its table's intake once armed, else NULL */
} CallFrontObject;

static PyObject *
call_slow(CallFrontObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *kw = kwargs != NULL ? Py_NewRef(kwargs) : PyDict_New();
    if (kw == NULL) {
        return NULL;
    }
    PyObject *result = PyObject_CallMethodObjArgs((PyObject *)self, str_call, args, kw, NULL);
    Py_DECREF(kw);
    return result;
}

/* self._ended(frame, args, kwargs, output, error, start_ns, elapsed_ns) */
static PyObject *
call_ended(CallFrontObject *self, PyObject *frame, PyObject *args, PyObject *kwargs,
           PyObject *output, PyObject *error, long long start, long long elapsed)
{
    PyObject *kw = kwargs != NULL ? PyDict_Copy(kwargs) : PyDict_New();
    PyObject *start_obj = PyLong_FromLongLong(start);
    PyObject *elapsed_obj = PyLong_FromLongLong(elapsed);
    PyObject *result = NULL;
    if (kw != NULL && start_obj != NULL && elapsed_obj != NULL) {
        result = PyObject_CallMethodObjArgs((PyObject *)self, str_ended, frame, args, kw, output,
                                            error, start_obj, elapsed_obj, NULL);
    }
    Py_XDECREF(kw);
    Py_XDECREF(start_obj);
    Py_XDECREF(elapsed_obj);
    return result;
}

static int
flag_is(PyObject *owner, PyObject *name, PyObject *expected)
{
    PyObject *flag = PyObject_GetAttr(owner, name);
    if (flag == NULL) {
        return -1;
    }
    int same = flag == expected;
    Py_DECREF(flag);
    return same;
}

/* The item of a fast call, as the monitor's deferred builder reads it:
 * (end_ns, kind, (key, trace, parent, args, kwargs | None, output, None, start_ns,
 * elapsed_ns)). */
static PyObject *
fast_item(PyObject *frame, PyObject *args, PyObject *kwargs, PyObject *output, long long start,
          long long elapsed, Py_ssize_t kind)
{
    PyObject *kw;
    if (kwargs == NULL || PyDict_GET_SIZE(kwargs) == 0) {
        kw = Py_NewRef(Py_None);
    }
    else {
        kw = PyDict_Copy(kwargs); /* f(**d) may hand over the caller's own dict */
    }
    PyObject_GC_UnTrack(args); /* plain values only (the caller checked): as the collector would */
    PyObject *payload_items[] = {
        Py_NewRef(PyList_GET_ITEM(frame, FRAME_KEY)),
        Py_NewRef(PyList_GET_ITEM(frame, FRAME_TRACE)),
        Py_NewRef(PyList_GET_ITEM(frame, FRAME_PARENT)),
        Py_NewRef(args),
        kw,
        Py_NewRef(output),
        Py_NewRef(Py_None),
        PyLong_FromLongLong(start),
        PyLong_FromLongLong(elapsed),
    };
    PyObject *item_items[] = {
        PyLong_FromLongLong(start + elapsed),
        PyLong_FromSsize_t(kind),
        plain_tuple(9, payload_items),
    };
    return plain_tuple(3, item_items);
}

static PyObject *
armed_call(CallFrontObject *self, IntakeObject *intake, PyObject *wrapped, PyObject *sink,
           PyObject *args, PyObject *kwargs)
{
    int fast = flag_is(switch_obj, str_enabled, Py_True);
    if (fast > 0) {
        fast = flag_is(state_obj, str_hooked, Py_False);
    }
    if (fast <= 0) {
        return fast < 0 ? NULL : call_slow(self, args, kwargs);
    }

    PyObject *parent;
    if (PyContextVar_Get(current_var, NULL, &parent) < 0) {
        return NULL;
    }
    if (parent != NULL && parent != Py_None &&
        !(PyList_CheckExact(parent) && PyList_GET_SIZE(parent) == FRAME_SIZE)) {
        Py_DECREF(parent);
        return call_slow(self, args, kwargs);
    }
    PyObject *frame = PyList_New(FRAME_SIZE);
    PyObject *key = frame != NULL ? PyIter_Next(counter) : NULL;
    if (key == NULL) {
        if (frame != NULL && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "the call counter is exhausted");
        }
        Py_XDECREF(frame);
        Py_XDECREF(parent);
        return NULL;
    }
    int root = parent == NULL || parent == Py_None;
    PyList_SET_ITEM(frame, FRAME_KEY, key);
    PyList_SET_ITEM(frame, FRAME_TRACE,
                    Py_NewRef(root ? key : PyList_GET_ITEM(parent, FRAME_TRACE)));
    PyList_SET_ITEM(frame, FRAME_PARENT,
                    Py_NewRef(root ? Py_None : PyList_GET_ITEM(parent, FRAME_KEY)));
    PyList_SET_ITEM(frame, FRAME_SINK, Py_NewRef(sink));
    PyList_SET_ITEM(frame, FRAME_RECORD, Py_NewRef(Py_None));
    Py_XDECREF(parent);

    PyObject *token = PyContextVar_Set(current_var, frame);
    if (token == NULL) {
        Py_DECREF(frame);
        return NULL;
    }
    long long start, t0, t1;
    if (wall_ns(&start) < 0 || monotonic_ns(&t0) < 0) {
        PyContextVar_Reset(current_var, token);
        Py_DECREF(token);
        Py_DECREF(frame);
        return NULL;
    }
    PyObject *output = PyObject_Call(wrapped, args, kwargs);
    if (monotonic_ns(&t1) < 0) {
        PyErr_Clear(); /* cannot happen with a clock that worked a moment ago */
        t1 = t0;
    }
    long long elapsed = t1 - t0;

    if (output == NULL) {
        PyObject *type, *error, *traceback;
        PyErr_Fetch(&type, &error, &traceback);
        PyErr_NormalizeException(&type, &error, &traceback);
        if (traceback != NULL) {
            PyException_SetTraceback(error, traceback);
        }
        if (PyContextVar_Reset(current_var, token) < 0) {
            PyErr_Clear();
        }
        Py_DECREF(token);
        PyObject *done = call_ended(self, frame, args, kwargs, Py_None, error, start, elapsed);
        Py_DECREF(frame);
        if (done == NULL) { /* as in Python: an error while recording replaces the call's */
            Py_XDECREF(type);
            Py_XDECREF(error);
            Py_XDECREF(traceback);
            return NULL;
        }
        Py_DECREF(done);
        PyErr_Restore(type, error, traceback);
        return NULL;
    }
    int reset = PyContextVar_Reset(current_var, token);
    Py_DECREF(token);
    if (reset < 0) {
        Py_DECREF(frame);
        Py_DECREF(output);
        return NULL;
    }

    PyObject *pending = intake->pending;
    if (PyList_GET_ITEM(frame, FRAME_RECORD) == Py_None && is_plain(output) && all_plain(args) &&
        (kwargs == NULL || all_plain_values(kwargs)) && pending != NULL &&
        PyList_GET_SIZE(pending) <= intake->limit) {
        PyObject *item = fast_item(frame, args, kwargs, output, start, elapsed, intake->kind);
        int appended = item != NULL ? PyList_Append(pending, item) : -1;
        Py_XDECREF(item);
        if (appended < 0) {
            Py_DECREF(frame);
            Py_DECREF(output);
            return NULL;
        }
        /* The row is written: a later current_record() on this frame must not log it again. */
        PyList_SetItem(frame, FRAME_RECORD, Py_NewRef(Py_False));
        Py_DECREF(frame);
        return output;
    }
    PyObject *done = call_ended(self, frame, args, kwargs, output, Py_None, start, elapsed);
    Py_DECREF(frame);
    if (done == NULL) {
        Py_DECREF(output);
        return NULL;
    }
    Py_DECREF(done);
    return output;
}

static PyObject *
callfront_call(CallFrontObject *self, PyObject *args, PyObject *kwargs)
{
    if (self->intake == NULL || current_var == NULL) {
        return call_slow(self, args, kwargs);
    }
    /* Held for the whole call: the function may arm this object again meanwhile. */
    IntakeObject *intake = (IntakeObject *)Py_NewRef(self->intake);
    PyObject *wrapped = Py_NewRef(self->wrapped);
    PyObject *sink = Py_NewRef(self->sink);
    PyObject *result = armed_call(self, intake, wrapped, sink, args, kwargs);
    Py_DECREF(intake);
    Py_DECREF(wrapped);
    Py_DECREF(sink);
    return result;
}

static PyObject *
callfront_arm(CallFrontObject *self, PyObject *args)
{
    PyObject *wrapped, *sink;
    IntakeObject *intake;
    if (!PyArg_ParseTuple(args, "OOO!:_arm", &wrapped, &sink, &IntakeType, &intake)) {
        return NULL;
    }
    Py_XSETREF(self->wrapped, Py_NewRef(wrapped));
    Py_XSETREF(self->sink, Py_NewRef(sink));
    Py_XSETREF(self->intake, (IntakeObject *)Py_NewRef(intake));
    Py_RETURN_NONE;
}

static PyObject *
callfront_get_intake(CallFrontObject *self, void *closure)
{
    return Py_NewRef(self->intake != NULL ? (PyObject *)self->intake : Py_None);
}

static int
callfront_traverse(CallFrontObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->wrapped);
    Py_VISIT(self->sink);
    Py_VISIT(self->intake);
    return 0;
}

static int
callfront_clear(CallFrontObject *self)
{
    Py_CLEAR(self->wrapped);
    Py_CLEAR(self->sink);
    Py_CLEAR(self->intake);
    return 0;
}

static void
callfront_dealloc(CallFrontObject *self)
{
    PyObject_GC_UnTrack(self);
    callfront_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef callfront_methods[] = {
    {"_arm", (PyCFunction)callfront_arm, METH_VARARGS,
     "_arm(wrapped, sink, intake)\n--\n\n"
     "Let calls take the fast path: call `wrapped`, append rows to `intake`."},
    {NULL},
};

static PyGetSetDef callfront_getset[] = {
    {"_intake", (getter)callfront_get_intake, NULL,
     "The intake calls append to, once armed; else None.", NULL},
    {NULL},
};

static PyTypeObject CallFrontType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "weave_nb._speedups.CallFront",
    .tp_basicsize = sizeof(CallFrontObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Base of MonitoredFunction: the fast path of a call "
              "(see weave_nb.monitor._call_front).",
    .tp_new = PyType_GenericNew,
    .tp_call = (ternaryfunc)callfront_call,
    .tp_traverse = (traverseproc)callfront_traverse,
    .tp_clear = (inquiry)callfront_clear,
    .tp_dealloc = (destructor)callfront_dealloc,
    .tp_methods = callfront_methods,
    .tp_getset = callfront_getset,
};

/* -- module functions --------------------------------------------------------- */

static PyObject *
set_plain_types(PyObject *module, PyObject *types)
{
    PyObject *items = PySequence_Tuple(types);
    if (items == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    if (n > MAX_PLAIN_TYPES) {
        Py_DECREF(items);
        return PyErr_Format(PyExc_ValueError, "at most %d plain types", MAX_PLAIN_TYPES);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!PyType_Check(PyTuple_GET_ITEM(items, i))) {
            Py_DECREF(items);
            return PyErr_Format(PyExc_TypeError, "plain types must be types");
        }
    }
    for (int i = 0; i < n_plain_types; i++) {
        Py_DECREF(plain_types[i]);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        plain_types[i] = (PyTypeObject *)Py_NewRef(PyTuple_GET_ITEM(items, i));
    }
    n_plain_types = (int)n;
    Py_DECREF(items);
    Py_RETURN_NONE;
}

static PyObject *
configure_calls(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"current", "counter", "switch", "state", "frame_layout", NULL};
    PyObject *current, *count, *switch_, *state, *layout;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!OOOO:configure_calls", names,
                                     &PyContextVar_Type, &current, &count, &switch_, &state,
                                     &layout)) {
        return NULL;
    }
    PyObject *expected = Py_BuildValue("(iiiii)", FRAME_KEY, FRAME_TRACE, FRAME_PARENT,
                                       FRAME_SINK, FRAME_RECORD);
    if (expected == NULL) {
        return NULL;
    }
    int same = PyObject_RichCompareBool(layout, expected, Py_EQ);
    Py_DECREF(expected);
    if (same <= 0) {
        return same < 0 ? NULL
                        : PyErr_Format(PyExc_ValueError,
                                       "frame layout %R is not the one this module was built for",
                                       layout);
    }
    if (!PyIter_Check(count)) {
        return PyErr_Format(PyExc_TypeError, "counter must be an iterator");
    }
    Py_XSETREF(current_var, Py_NewRef(current));
    Py_XSETREF(counter, Py_NewRef(count));
    Py_XSETREF(switch_obj, Py_NewRef(switch_));
    Py_XSETREF(state_obj, Py_NewRef(state));
    Py_RETURN_NONE;
}

static PyObject *
columns_of(PyObject *module, PyObject *args)
{
    PyObject *rows, *names;
    if (!PyArg_ParseTuple(args, "O!O!:columns_of", &PyList_Type, &rows, &PyList_Type, &names)) {
        return NULL;
    }
    Py_ssize_t n_rows = PyList_GET_SIZE(rows), n_names = PyList_GET_SIZE(names);
    PyObject *columns = PyList_New(n_names);
    if (columns == NULL) {
        return NULL;
    }
    for (Py_ssize_t j = 0; j < n_names; j++) {
        PyObject *column = PyList_New(n_rows);
        if (column == NULL) {
            Py_DECREF(columns);
            return NULL;
        }
        PyList_SET_ITEM(columns, j, column);
    }
    for (Py_ssize_t i = 0; i < n_rows; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyDict_CheckExact(row)) {
            Py_DECREF(columns);
            return PyErr_Format(PyExc_TypeError, "row %zd is not a dict", i);
        }
        if (PyDict_GET_SIZE(row) != n_names) {
            Py_DECREF(columns);
            return PyErr_Format(PyExc_KeyError, "row %zd has %zd keys, not %zd", i,
                                PyDict_GET_SIZE(row), n_names);
        }
        /* Rows logged by one line of code hold the same key objects in the same
         * order: read them in order, looking a key up only where that fails. */
        Py_ssize_t pos = 0, j = 0;
        PyObject *key, *value;
        while (j < n_names && PyDict_Next(row, &pos, &key, &value) &&
               key == PyList_GET_ITEM(names, j)) {
            PyList_SET_ITEM(PyList_GET_ITEM(columns, j), i, Py_NewRef(value));
            j++;
        }
        for (; j < n_names; j++) {
            PyObject *name = PyList_GET_ITEM(names, j);
            value = PyDict_GetItemWithError(row, name);
            if (value == NULL) {
                if (!PyErr_Occurred()) {
                    PyErr_SetObject(PyExc_KeyError, name);
                }
                Py_DECREF(columns);
                return NULL;
            }
            PyList_SET_ITEM(PyList_GET_ITEM(columns, j), i, Py_NewRef(value));
        }
    }
    return columns;
}

/* -- plain_array: a column of one plain type as Arrow buffers ------------------- */

enum { COL_NONE, COL_INT, COL_FLOAT, COL_BOOL, COL_STR, COL_BYTES };

static PyObject *
new_bytes(Py_ssize_t size, char **data)
{
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, size);
    if (bytes != NULL) {
        *data = PyBytes_AS_STRING(bytes);
        memset(*data, 0, (size_t)size);
    }
    return bytes;
}

/* The text of `value` as UTF-8 (str or bytes), or NULL without an error set if it
 * has none (a lone surrogate: the Python path escapes it). */
static const char *
utf8_of(PyObject *value, int kind, Py_ssize_t *size)
{
    if (kind == COL_BYTES) {
        *size = PyBytes_GET_SIZE(value);
        return PyBytes_AS_STRING(value);
    }
    const char *text = PyUnicode_AsUTF8AndSize(value, size);
    if (text == NULL) {
        PyErr_Clear();
    }
    return text;
}

static PyObject *
plain_array(PyObject *module, PyObject *values)
{
    if (!PyList_CheckExact(values)) {
        return PyErr_Format(PyExc_TypeError, "plain_array takes a list");
    }
    Py_ssize_t n = PyList_GET_SIZE(values), nulls = 0;
    int kind = COL_NONE;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        int this;
        if (value == Py_None) {
            nulls++;
            continue;
        }
        else if (PyLong_CheckExact(value)) {
            this = COL_INT;
        }
        else if (PyFloat_CheckExact(value)) {
            this = COL_FLOAT;
        }
        else if (PyBool_Check(value)) {
            this = COL_BOOL;
        }
        else if (PyUnicode_CheckExact(value)) {
            this = COL_STR;
        }
        else if (PyBytes_CheckExact(value)) {
            this = COL_BYTES;
        }
        else {
            Py_RETURN_NONE;
        }
        if (kind != this) {
            if (kind != COL_NONE) {
                Py_RETURN_NONE; /* a mix: Arrow's inference decides */
            }
            kind = this;
        }
    }
    if (kind == COL_NONE) {
        Py_RETURN_NONE;
    }

    PyObject *validity = NULL, *data = NULL, *offsets = NULL;
    char *valid_bits = NULL, *out = NULL;
    if (nulls) {
        validity = new_bytes((n + 7) / 8, &valid_bits);
        if (validity == NULL) {
            return NULL;
        }
    }
    if (kind == COL_INT || kind == COL_FLOAT || kind == COL_BOOL) {
        Py_ssize_t width = kind == COL_BOOL ? 0 : 8;
        data = new_bytes(kind == COL_BOOL ? (n + 7) / 8 : n * width, &out);
        if (data == NULL) {
            goto fail;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *value = PyList_GET_ITEM(values, i);
            if (value == Py_None) {
                continue;
            }
            if (valid_bits != NULL) {
                valid_bits[i >> 3] |= (char)(1 << (i & 7));
            }
            if (kind == COL_INT) {
                int overflow;
                long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
                if (overflow) { /* past int64: Arrow's inference decides */
                    Py_XDECREF(validity);
                    Py_DECREF(data);
                    Py_RETURN_NONE;
                }
                int64_t stored = (int64_t)number;
                memcpy(out + i * 8, &stored, 8);
            }
            else if (kind == COL_FLOAT) {
                double number = PyFloat_AS_DOUBLE(value);
                memcpy(out + i * 8, &number, 8);
            }
            else if (value == Py_True) {
                out[i >> 3] |= (char)(1 << (i & 7));
            }
        }
        return Py_BuildValue("(inNN)", kind, nulls, validity != NULL ? validity : Py_NewRef(Py_None),
                             data);
    }

    /* str or bytes: offsets (int32) and the bytes of the values one after another */
    char *offset_bytes;
    offsets = new_bytes((n + 1) * 4, &offset_bytes);
    if (offsets == NULL) {
        goto fail;
    }
    int32_t *offset = (int32_t *)offset_bytes;
    Py_ssize_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        if (value != Py_None) {
            Py_ssize_t size;
            if (utf8_of(value, kind, &size) == NULL || size > INT32_MAX - total) {
                Py_XDECREF(validity);
                Py_DECREF(offsets);
                Py_RETURN_NONE;
            }
            total += size;
            if (valid_bits != NULL) {
                valid_bits[i >> 3] |= (char)(1 << (i & 7));
            }
        }
        offset[i + 1] = (int32_t)total;
    }
    data = new_bytes(total, &out);
    if (data == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = PyList_GET_ITEM(values, i);
        if (value != Py_None) {
            Py_ssize_t size;
            const char *text = utf8_of(value, kind, &size);
            memcpy(out + offset[i], text, (size_t)size);
        }
    }
    return Py_BuildValue("(inNNN)", kind, nulls,
                         validity != NULL ? validity : Py_NewRef(Py_None), offsets, data);
fail:
    Py_XDECREF(validity);
    Py_XDECREF(offsets);
    Py_XDECREF(data);
    return NULL;
}

/* -- rows_to_buffers: rows of one shape straight into Arrow buffers --------------- */

enum { COL_MIXED = 100 };

/* One column being built in a single pass over the rows. Its type is the first
 * value's; a later value of another type (or one Arrow stores otherwise: an int
 * past int64, text without a UTF-8 form) makes it MIXED, and such a column is
 * handed back as the list of its values for Arrow's own inference. */
typedef struct {
    int kind;
    Py_ssize_t nulls;
    PyObject *validity, *offsets, *data;
    char *valid_bits, *out;
    int32_t *offset;
    Py_ssize_t at, capacity;
} ColumnBuild;

static int
kind_of(PyObject *value)
{
    if (PyLong_CheckExact(value)) {
        return COL_INT;
    }
    if (PyFloat_CheckExact(value)) {
        return COL_FLOAT;
    }
    if (PyBool_Check(value)) {
        return COL_BOOL;
    }
    if (PyUnicode_CheckExact(value)) {
        return COL_STR;
    }
    if (PyBytes_CheckExact(value)) {
        return COL_BYTES;
    }
    return COL_MIXED;
}

static int
start_column(ColumnBuild *column, int kind, Py_ssize_t n)
{
    column->kind = kind;
    if (kind == COL_MIXED) {
        return 0;
    }
    column->validity = new_bytes((n + 7) / 8, &column->valid_bits);
    if (column->validity == NULL) {
        return -1;
    }
    if (kind == COL_STR || kind == COL_BYTES) {
        char *offsets = NULL;
        column->offsets = new_bytes((n + 1) * 4, &offsets);
        if (column->offsets == NULL) {
            return -1;
        }
        column->offset = (int32_t *)offsets;
        column->capacity = 16 * n + 64;
        column->data = PyBytes_FromStringAndSize(NULL, column->capacity);
        column->out = column->data != NULL ? PyBytes_AS_STRING(column->data) : NULL;
    }
    else {
        column->data = new_bytes(kind == COL_BOOL ? (n + 7) / 8 : n * 8, &column->out);
    }
    return column->data == NULL ? -1 : 0;
}

/* Row `i`'s value into its column; -1 on a memory error. */
static int
store_value(ColumnBuild *column, Py_ssize_t i, Py_ssize_t n, PyObject *value)
{
    if (value == Py_None) {
        column->nulls++;
    }
    else {
        if (column->kind == COL_NONE && start_column(column, kind_of(value), n) < 0) {
            return -1;
        }
        if (column->kind == COL_MIXED) {
            return 0;
        }
        switch (column->kind) {
        case COL_INT: {
            int overflow;
            long long number = PyLong_CheckExact(value)
                                   ? PyLong_AsLongLongAndOverflow(value, &overflow)
                                   : (overflow = 1, 0);
            if (overflow) {
                column->kind = COL_MIXED;
                return 0;
            }
            int64_t stored = (int64_t)number;
            memcpy(column->out + i * 8, &stored, 8);
            break;
        }
        case COL_FLOAT:
            if (!PyFloat_CheckExact(value)) {
                column->kind = COL_MIXED;
                return 0;
            }
            double number = PyFloat_AS_DOUBLE(value);
            memcpy(column->out + i * 8, &number, 8);
            break;
        case COL_BOOL:
            if (!PyBool_Check(value)) {
                column->kind = COL_MIXED;
                return 0;
            }
            if (value == Py_True) {
                column->out[i >> 3] |= (char)(1 << (i & 7));
            }
            break;
        default: {
            Py_ssize_t size;
            const char *text = kind_of(value) == column->kind
                                   ? utf8_of(value, column->kind, &size)
                                   : NULL;
            if (text == NULL || size > INT32_MAX - column->at) {
                column->kind = COL_MIXED;
                return 0;
            }
            if (column->at + size > column->capacity) {
                Py_ssize_t capacity = 2 * (column->at + size);
                if (_PyBytes_Resize(&column->data, capacity) < 0) {
                    return -1;
                }
                column->capacity = capacity;
                column->out = PyBytes_AS_STRING(column->data);
            }
            memcpy(column->out + column->at, text, (size_t)size);
            column->at += size;
        }
        }
        column->valid_bits[i >> 3] |= (char)(1 << (i & 7));
    }
    if (column->offset != NULL) {
        column->offset[i + 1] = (int32_t)column->at;
    }
    return 0;
}

/* The values of `row` in the order of `names`, into `values`; 0 if the row is not a
 * dict with exactly these keys in this order. */
static int
row_values(PyObject *row, PyObject *names, PyObject **values)
{
    Py_ssize_t n = PyList_GET_SIZE(names);
    if (PyTuple_CheckExact(row) && PyTuple_GET_SIZE(row) == n) { /* values in key order */
        for (Py_ssize_t j = 0; j < n; j++) {
            values[j] = PyTuple_GET_ITEM(row, j);
        }
        return 1;
    }
    if (!PyDict_CheckExact(row) || PyDict_GET_SIZE(row) != n) {
        return 0;
    }
    Py_ssize_t pos = 0, j = 0;
    PyObject *key, *value;
    while (PyDict_Next(row, &pos, &key, &value)) {
        PyObject *name = PyList_GET_ITEM(names, j);
        if (key != name) {
            if (!PyUnicode_CheckExact(key) || !PyUnicode_CheckExact(name) ||
                PyUnicode_Compare(key, name) != 0) {
                PyErr_Clear();
                return 0;
            }
        }
        values[j++] = value;
    }
    return 1;
}

/* Row `i` of `rows`: the row itself, or the values of the pending item
 * (time_ns, kind, values) when `items`. */
static inline PyObject *
row_at(PyObject *rows, Py_ssize_t i, int items)
{
    PyObject *row = PyList_GET_ITEM(rows, i);
    if (items) {
        return PyTuple_CheckExact(row) && PyTuple_GET_SIZE(row) == 3 ? PyTuple_GET_ITEM(row, 2)
                                                                      : NULL;
    }
    return row;
}

/* A column's result: plain_array's tuple, or the list of its values. */
static PyObject *
column_result(ColumnBuild *column, PyObject *rows, Py_ssize_t j, int items)
{
    if (column->kind == COL_NONE || column->kind == COL_MIXED) {
        Py_ssize_t n = PyList_GET_SIZE(rows);
        PyObject *list = PyList_New(n);
        for (Py_ssize_t i = 0; list != NULL && i < n; i++) {
            PyObject *row = row_at(rows, i, items), *key, *value = NULL;
            if (PyTuple_CheckExact(row)) {
                value = PyTuple_GET_ITEM(row, j);
            }
            else {
                Py_ssize_t pos = 0, k = 0;
                while (k <= j && PyDict_Next(row, &pos, &key, &value)) {
                    k++;
                }
            }
            PyList_SET_ITEM(list, i, Py_NewRef(value));
        }
        return list;
    }
    if (column->offsets != NULL && _PyBytes_Resize(&column->data, column->at) < 0) {
        return NULL;
    }
    PyObject *validity = column->nulls ? column->validity : Py_None;
    if (column->offsets != NULL) {
        return Py_BuildValue("(inOOO)", column->kind, column->nulls, validity, column->offsets,
                             column->data);
    }
    return Py_BuildValue("(inOO)", column->kind, column->nulls, validity, column->data);
}

static PyObject *
rows_to_buffers(PyObject *module, PyObject *args)
{
    PyObject *rows, *names;
    int items = 0;
    if (!PyArg_ParseTuple(args, "O!O!|p:rows_to_buffers", &PyList_Type, &rows, &PyList_Type,
                          &names, &items)) {
        return NULL;
    }
    Py_ssize_t n_rows = PyList_GET_SIZE(rows), n_names = PyList_GET_SIZE(names);
    ColumnBuild *columns = PyMem_Calloc((size_t)n_names + 1, sizeof(ColumnBuild));
    PyObject **values = PyMem_Calloc((size_t)n_names + 1, sizeof(PyObject *));
    PyObject *result = NULL, *stamps = NULL;
    char *stamp_bytes = NULL;
    if (columns == NULL || values == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (items && (stamps = new_bytes(n_rows * 8, &stamp_bytes)) == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_rows; i++) {
        PyObject *row = row_at(rows, i, items);
        if (row == NULL || !row_values(row, names, values)) {
            result = Py_NewRef(Py_None); /* rows of other shapes: the Python path */
            goto done;
        }
        if (items) {
            int overflow;
            PyObject *time_ns = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i), 0);
            long long stamp = PyLong_AsLongLongAndOverflow(time_ns, &overflow);
            if (overflow || (stamp == -1 && PyErr_Occurred())) {
                PyErr_Clear();
                result = Py_NewRef(Py_None);
                goto done;
            }
            int64_t stored = (int64_t)stamp;
            memcpy(stamp_bytes + i * 8, &stored, 8);
        }
        for (Py_ssize_t j = 0; j < n_names; j++) {
            if (store_value(&columns[j], i, n_rows, values[j]) < 0) {
                goto done;
            }
        }
    }
    result = PyList_New(n_names);
    for (Py_ssize_t j = 0; result != NULL && j < n_names; j++) {
        PyObject *column = column_result(&columns[j], rows, j, items);
        if (column == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, j, column);
    }
    if (items && result != NULL) {
        Py_SETREF(result, Py_BuildValue("(OO)", stamps, result));
    }
done:
    if (columns != NULL) {
        for (Py_ssize_t j = 0; j < n_names; j++) {
            Py_XDECREF(columns[j].validity);
            Py_XDECREF(columns[j].offsets);
            Py_XDECREF(columns[j].data);
        }
    }
    Py_XDECREF(stamps);
    PyMem_Free(columns);
    PyMem_Free(values);
    return result;
}

/* -- the flusher's bookkeeping --------------------------------------------------- */

/* Kind of a pending item: -1 for a row (a dict), else its builder's number. */
static int
item_kind(PyObject *item, Py_ssize_t *kind)
{
    if (PyDict_CheckExact(item)) {
        *kind = -1;
        return 0;
    }
    if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 3) {
        PyErr_SetString(PyExc_TypeError, "a pending item is a dict or a 3-tuple");
        return -1;
    }
    *kind = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
    return (*kind == -1 && PyErr_Occurred()) ? -1 : 0;
}

static PyObject *
item_runs(PyObject *module, PyObject *items)
{
    if (!PyList_CheckExact(items)) {
        return PyErr_Format(PyExc_TypeError, "item_runs takes a list");
    }
    Py_ssize_t n = PyList_GET_SIZE(items), start = 0, previous = 0;
    PyObject *runs = PyList_New(0);
    if (runs == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i <= n; i++) {
        Py_ssize_t kind = 0;
        if (i < n && item_kind(PyList_GET_ITEM(items, i), &kind) < 0) {
            Py_DECREF(runs);
            return NULL;
        }
        if (i == n || (i > 0 && kind != previous)) {
            if (i > start || n == 0) { /* no items: one empty run, as in Python */
                PyObject *run = PyObject_CallFunction((PyObject *)&PyRange_Type, "nn", start, i);
                if (run == NULL || PyList_Append(runs, run) < 0) {
                    Py_XDECREF(run);
                    Py_DECREF(runs);
                    return NULL;
                }
                Py_DECREF(run);
            }
            start = i;
        }
        previous = kind;
    }
    return runs;
}

static PyObject *
numbered_text(PyObject *module, PyObject *args)
{
    const char *prefix;
    Py_ssize_t prefix_size, n;
    long long start;
    if (!PyArg_ParseTuple(args, "s#Ln:numbered_text", &prefix, &prefix_size, &start, &n)) {
        return NULL;
    }
    if (start < 0 || n < 0 || (n > 0 && start > LLONG_MAX - (n - 1))) {
        return PyErr_Format(PyExc_ValueError, "numbers must be from 0 to 2**63 - 1");
    }
    Py_ssize_t widest = prefix_size + 20;
    if (n > 0 && widest > INT32_MAX / n) {
        return PyErr_Format(PyExc_OverflowError, "too much text for one string array");
    }
    char *offset_bytes, *out;
    PyObject *offsets = new_bytes((n + 1) * 4, &offset_bytes);
    if (offsets == NULL) {
        return NULL;
    }
    PyObject *data = PyBytes_FromStringAndSize(NULL, n * widest);
    if (data == NULL) {
        Py_DECREF(offsets);
        return NULL;
    }
    out = PyBytes_AS_STRING(data);
    int32_t *offset = (int32_t *)offset_bytes;
    Py_ssize_t at = 0;
    char digits[24];
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long long number = (unsigned long long)(start + i);
        int count = 0;
        do {
            digits[count++] = (char)('0' + number % 10);
            number /= 10;
        } while (number);
        memcpy(out + at, prefix, (size_t)prefix_size);
        at += prefix_size;
        while (count) {
            out[at++] = digits[--count];
        }
        offset[i + 1] = (int32_t)at;
    }
    if (_PyBytes_Resize(&data, at) < 0) {
        Py_DECREF(offsets);
        return NULL;
    }
    return Py_BuildValue("(NN)", offsets, data);
}

static PyMethodDef module_methods[] = {
    {"set_plain_types", set_plain_types, METH_O,
     "set_plain_types(types)\n--\n\nThe exact types of values the fast paths take as they are."},
    {"configure_calls", (PyCFunction)(void (*)(void))configure_calls,
     METH_VARARGS | METH_KEYWORDS,
     "configure_calls(current, counter, switch, state, frame_layout)\n--\n\n"
     "The monitor's context variable, key counter, on/off switch and hook state."},
    {"plain_array", plain_array, METH_O,
     "plain_array(values)\n--\n\n"
     "A list of one plain type (int, float, bool, str or bytes) and None as Arrow buffers:\n"
     "(kind, null_count, validity | None, data) or, for text, (kind, null_count, validity | "
     "None, offsets, data); None for any other list."},
    {"rows_to_buffers", rows_to_buffers, METH_VARARGS,
     "rows_to_buffers(rows, names, items=False)\n--\n\n"
     "Dicts with exactly the keys `names` (in that order), or tuples of their values, as\n"
     "columns: plain_array's buffers for\n"
     "a column of one plain type, the list of values for any other; None for rows of other "
     "shapes. With `items`, rows are pending items (time_ns, kind, values) and the result is "
     "(the times as int64 bytes, columns)."},
    {"item_runs", item_runs, METH_O,
     "item_runs(items)\n--\n\n"
     "The ranges of `items` (pending rows and deferred items) of one kind each, in order."},
    {"numbered_text", numbered_text, METH_VARARGS,
     "numbered_text(prefix, start, n)\n--\n\n"
     "The strings prefix + str(start + i) for i < n as Arrow buffers: (offsets, data)."},
    {"columns_of", columns_of, METH_VARARGS,
     "columns_of(rows, names)\n--\n\n"
     "The values of `names` in each dict of `rows`, as one list per name; KeyError unless "
     "every row has exactly these keys."},
    {NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "weave_nb._speedups",
    .m_doc = "The hot paths of StreamTable.log() and @monitor, in C.",
    .m_size = -1,
    .m_methods = module_methods,
};

static int
intern(PyObject **slot, const char *text)
{
    *slot = PyUnicode_InternFromString(text);
    return *slot == NULL ? -1 : 0;
}

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (intern(&str_enabled, "enabled") < 0 || intern(&str_hooked, "hooked") < 0 ||
        intern(&str_call, "_call") < 0 || intern(&str_ended, "_ended") < 0 ||
        intern(&str_log_checked, "_log_checked") < 0 ||
        intern(&str_wait_for_room, "_wait_for_room") < 0 ||
        intern(&str_row_shape, "_row_shape") < 0 || intern(&str_stamp, "") < 0) {
        return NULL;
    }
#if !(defined(CLOCK_REALTIME) && defined(CLOCK_MONOTONIC))
    PyObject *time_module = PyImport_ImportModule("time");
    if (time_module == NULL) {
        return NULL;
    }
    time_ns_fn = PyObject_GetAttrString(time_module, "time_ns");
    perf_counter_ns_fn = PyObject_GetAttrString(time_module, "perf_counter_ns");
    Py_DECREF(time_module);
    if (time_ns_fn == NULL || perf_counter_ns_fn == NULL) {
        return NULL;
    }
#endif
    if (PyType_Ready(&IntakeType) < 0 || PyType_Ready(&LogFrontType) < 0 ||
        PyType_Ready(&CallFrontType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "Intake", (PyObject *)&IntakeType) < 0 ||
        PyModule_AddObjectRef(module, "LogFront", (PyObject *)&LogFrontType) < 0 ||
        PyModule_AddObjectRef(module, "CallFront", (PyObject *)&CallFrontType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
