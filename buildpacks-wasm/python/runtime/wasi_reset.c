/* _wasmfoundry_wasi: the one thing the WSGI runtime cannot do in Python.
 *
 * Before the DEA snapshots the runtime (after `initialize` imported the
 * app), wasi-libc's table of preopened directories and the preview 1
 * adapter's table of descriptors hold handles of the staging store; an
 * instance that used them would trap ("handle index used with the wrong
 * type"). forget_host_handles() clears both, as componentize-py does after
 * its own build-time initialisation, so each instance looks its
 * directories up again.
 *
 * A CPython extension module (stable ABI, 3.14, wasm32) linked into the
 * runtime by componentize-py as a WASI shared library. It is declared by
 * hand, without Python.h: the few stable-ABI types it needs are below. */

typedef long Py_ssize_t;
typedef struct _object {
  Py_ssize_t ob_refcnt;
  void *ob_type;
} PyObject;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);
typedef struct {
  const char *ml_name;
  PyCFunction ml_meth;
  int ml_flags;
  const char *ml_doc;
} PyMethodDef;
typedef struct {
  PyObject ob_base;
  PyObject *(*m_init)(void);
  Py_ssize_t m_index;
  PyObject *m_copy;
} PyModuleDef_Base;
typedef struct {
  PyModuleDef_Base m_base;
  const char *m_name;
  const char *m_doc;
  Py_ssize_t m_size;
  PyMethodDef *m_methods;
  void *m_slots, *m_traverse, *m_clear, *m_free;
} PyModuleDef;
#define METH_NOARGS 0x0004
#define PYTHON_API_VERSION 1013

extern PyObject _Py_NoneStruct;
extern void Py_IncRef(PyObject *);
extern PyObject *PyModule_Create2(PyModuleDef *, int);

__attribute__((import_module("wasi_snapshot_preview1"), import_name("reset_adapter_state")))
extern void reset_adapter_state(void);
extern void __wasilibc_reset_preopens(void);

static PyObject *forget_host_handles(PyObject *self, PyObject *unused) {
  (void)self;
  (void)unused;
  reset_adapter_state();
  __wasilibc_reset_preopens();
  Py_IncRef(&_Py_NoneStruct);
  return &_Py_NoneStruct;
}

static PyMethodDef methods[] = {
    {"forget_host_handles", forget_host_handles, METH_NOARGS,
     "Forget the host handles wasi-libc and the WASI adapter hold (before a snapshot)."},
    {0, 0, 0, 0},
};

static PyModuleDef module = {{{1, 0}, 0, 0, 0}, "_wasmfoundry_wasi", 0, -1, methods, 0, 0, 0, 0};

__attribute__((visibility("default"))) PyObject *PyInit__wasmfoundry_wasi(void) {
  return PyModule_Create2(&module, PYTHON_API_VERSION);
}
