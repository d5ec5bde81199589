/* The module weave_nb._speedups, and what Python configures it with. */
#include "speedups.h"

PyObject *
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

PyObject *
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
