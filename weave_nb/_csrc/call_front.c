/* CallFront: MonitoredFunction.__call__'s fast path, and the Intake it appends to. */
#include "speedups.h"

/* -- Intake ------------------------------------------------------------------ */

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

PyTypeObject IntakeType = {
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

/* -- CallFront ---------------------------------------------------------------- */

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

PyTypeObject CallFrontType = {
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
