/*
 * weave_nb._speedups: the hot paths of weave_nb in C, shared declarations.
 *
 *   log_front.c   StreamTable.log()'s fast path (LogFront)
 *   call_front.c  MonitoredFunction's fast path (CallFront), and the Intake it fills
 *   columns.c     the flusher's conversion: rows straight into Arrow buffers
 *   flusher.c     the flusher's bookkeeping: runs of item kinds, generated ids
 *   module.c      the module, and what Python configures it with
 *
 * Each fast path does exactly what its pure-Python reference does
 * (weave_nb/store/_log_front.py, weave_nb/monitor/_call_front.py, and the Python
 * conversion in weave_nb/store/_convert.py), and hands every other case to the same
 * Python code; tests/test_speedups.py checks that they agree. The C code only takes
 * values it can prove plain, and never raises on its own account.
 */
#ifndef WEAVE_NB_SPEEDUPS_H
#define WEAVE_NB_SPEEDUPS_H

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

/* Kinds of plain columns, as Python's _PLAIN_ARROW_TYPES numbers them; MIXED is a
 * column Arrow must infer. */
enum { COL_NONE, COL_INT, COL_FLOAT, COL_BOOL, COL_STR, COL_BYTES, COL_MIXED = 100 };

#define MAX_PLAIN_TYPES 16
extern PyTypeObject *plain_types[MAX_PLAIN_TYPES];
extern int n_plain_types;

/* Set by configure_calls(); until then every call takes the Python path. */
extern PyObject *current_var; /* ContextVar[Frame | None] */
extern PyObject *counter;     /* itertools.count() of call keys */
extern PyObject *switch_obj;  /* SWITCH: .enabled */
extern PyObject *state_obj;   /* tracing STATE: .hooked */

extern PyObject *str_enabled, *str_hooked, *str_call, *str_ended, *str_log_checked,
    *str_wait_for_room, *str_row_shape, *str_stamp;

/* -- clocks: the ones time.time_ns() and time.perf_counter_ns() read ---------- */

#if defined(CLOCK_REALTIME) && defined(CLOCK_MONOTONIC)
static inline int
clock_ns(clockid_t clock, long long *out)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    *out = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    return 0;
}

static inline int wall_ns(long long *out) { return clock_ns(CLOCK_REALTIME, out); }
static inline int monotonic_ns(long long *out) { return clock_ns(CLOCK_MONOTONIC, out); }
#else
extern PyObject *time_ns_fn, *perf_counter_ns_fn;
int call_clock(PyObject *fn, long long *out);
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

/* -- shared helpers (common.c) ---------------------------------------------------- */

int all_plain(PyObject *tuple);
int all_plain_values(PyObject *dict);
PyObject *plain_tuple(Py_ssize_t n, PyObject **items);
PyObject *new_bytes(Py_ssize_t size, char **data);
const char *utf8_of(PyObject *value, int kind, Py_ssize_t *size);

/* -- the types and functions of the module ---------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *pending;
    Py_ssize_t kind;
    Py_ssize_t limit;
} IntakeObject;

extern PyTypeObject IntakeType, LogFrontType, CallFrontType;

PyObject *set_plain_types(PyObject *module, PyObject *types);
PyObject *configure_calls(PyObject *module, PyObject *args, PyObject *kwargs);
PyObject *plain_array(PyObject *module, PyObject *values);
PyObject *rows_to_buffers(PyObject *module, PyObject *args);
PyObject *columns_of(PyObject *module, PyObject *args);
PyObject *item_runs(PyObject *module, PyObject *items);
PyObject *numbered_text(PyObject *module, PyObject *args);

#endif
