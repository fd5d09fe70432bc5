/* A host that gives a build the same answers every time, loaded with
 * LD_PRELOAD around a tool whose output would otherwise depend on when and
 * where it ran (scripts/build-wasm.sh, around componentize-py).
 *
 * componentize-py pre-initialises CPython inside wasmtime at build time and
 * writes the interpreter's whole memory into the component. Whatever the
 * interpreter read from the host on the way is in those bytes, freed memory
 * included: random bytes (the str hash seed), the clocks, and every stat()
 * it made of the files it imported (times and inode numbers). So, for the
 * process this is loaded into:
 *
 *  - random bytes (getrandom, getentropy, syscall(SYS_getrandom)) are the
 *    same fixed sequence on every call;
 *  - the wall clock and the monotonic clock stand still;
 *  - every stat call (trapped with seccomp, since wasmtime's filesystem
 *    code makes the syscalls itself) reports fixed times and an inode
 *    number hashed from the file's path, on one device.
 *
 * The files read must then sit at the same paths on every build (the
 * script builds from a copy at a fixed path, with TMPDIR inside it), and
 * nothing the tool runs may exec another program: a new program would
 * meet the stat trap before this library could catch it.
 *
 * Linux on x86_64 only (the seccomp filter and the register names). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/stat.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* ---- random bytes ------------------------------------------------------ */

/* SplitMix64 from a fixed seed, restarted on every call: the bytes a
 * caller gets do not depend on how the threads' calls interleave. */
static void fill(void *buf, size_t len) {
  uint64_t state = 0x5eed;
  unsigned char *out = buf;
  for (size_t i = 0; i < len; i++) {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    out[i] = (unsigned char)(z ^ (z >> 31));
  }
}

ssize_t getrandom(void *buf, size_t len, unsigned flags) {
  (void)flags;
  fill(buf, len);
  return (ssize_t)len;
}

int getentropy(void *buf, size_t len) {
  fill(buf, len);
  return 0;
}

/* The getrandom crate calls syscall(SYS_getrandom, …) through libc. */
long syscall(long number, ...) {
  static long (*real)(long, ...);
  va_list ap;
  long a[6];
  va_start(ap, number);
  for (int i = 0; i < 6; i++) a[i] = va_arg(ap, long);
  va_end(ap);
  if (number == SYS_getrandom) {
    fill((void *)a[0], (size_t)a[1]);
    return a[1];
  }
  if (!real) real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
  return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---- clocks ------------------------------------------------------------ */

/* Both clocks stand still: the guest's time.time() and time.monotonic(),
 * and the host's temporary-file names (seeded from the monotonic clock). */
int clock_gettime(clockid_t clock, struct timespec *now) {
  (void)clock;
  now->tv_sec = 1;
  now->tv_nsec = 0;
  return 0;
}

/* ---- stat -------------------------------------------------------------- */

/* A stat call the handler makes itself carries this in its (unused) sixth
 * argument, and the filter lets it through. */
#define PASS_MARK 0x5ee5ee5ee5ee5eeL

static long raw_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}

/* The path an open descriptor (or, for AT_FDCWD, the working directory)
 * names, read without libc: this runs in a signal handler. */
static size_t fd_path(long fd, char *out, size_t size) {
  char link[40] = "/proc/self/cwd";
  if (fd != AT_FDCWD) {
    char digits[24];
    int n = 0;
    unsigned long v = (unsigned long)fd;
    do digits[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    memcpy(link, "/proc/self/fd/", 14);
    for (int i = 0; i < n; i++) link[14 + i] = digits[n - 1 - i];
    link[14 + n] = 0;
  }
  long len = raw_syscall6(SYS_readlink, (long)link, (long)out, (long)size - 1, 0, 0, PASS_MARK);
  if (len < 0) len = 0;
  out[len] = 0;
  return (size_t)len;
}

/* FNV-1a of the absolute path `path` names relative to `dirfd`. */
static uint64_t path_hash(long dirfd, const char *path) {
  char full[PATH_MAX * 2];
  size_t len = 0;
  if (!path || path[0] != '/') {
    len = fd_path(dirfd, full, PATH_MAX);
    if (path && path[0]) full[len++] = '/';
  }
  if (path) {
    size_t n = strnlen(path, PATH_MAX - 1);
    memcpy(full + len, path, n);
    len += n;
  }
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)full[i]) * 1099511628211ULL;
  return h;
}

static void fix_stat(struct stat *st, uint64_t ino) {
  const struct timespec fixed = {1, 0};
  st->st_atim = st->st_mtim = st->st_ctim = fixed;
  st->st_ino = ino;
  st->st_dev = 1;
}

static void fix_statx(struct statx *st, uint64_t ino) {
  const struct statx_timestamp fixed = {.tv_sec = 1, .tv_nsec = 0};
  st->stx_atime = st->stx_btime = st->stx_ctime = st->stx_mtime = fixed;
  st->stx_ino = ino;
  st->stx_dev_major = 0;
  st->stx_dev_minor = 1;
}

static void on_sigsys(int sig, siginfo_t *info, void *context) {
  (void)sig;
  greg_t *r = ((ucontext_t *)context)->uc_mcontext.gregs;
  long n = info->si_syscall;
  long ret = raw_syscall6(n, r[REG_RDI], r[REG_RSI], r[REG_RDX], r[REG_R10], r[REG_R8], PASS_MARK);
  if (ret == 0) {
    if (n == SYS_statx)
      fix_statx((struct statx *)r[REG_R8], path_hash(r[REG_RDI], (const char *)r[REG_RSI]));
    else if (n == SYS_newfstatat)
      fix_stat((struct stat *)r[REG_RDX], path_hash(r[REG_RDI], (const char *)r[REG_RSI]));
    else if (n == SYS_fstat)
      fix_stat((struct stat *)r[REG_RSI], path_hash(r[REG_RDI], NULL));
    else
      fix_stat((struct stat *)r[REG_RSI], path_hash(AT_FDCWD, (const char *)r[REG_RDI]));
  }
  r[REG_RAX] = ret;
}

__attribute__((constructor)) static void trap_stat_calls(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_sigaction = on_sigsys;
  action.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &action, NULL);
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_statx, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_newfstatat, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fstat, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_stat, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_lstat, 0, 5),
      /* a stat call: let it through only with the mark */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(PASS_MARK & 0xffffffff), 0, 2),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5]) + 4),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(PASS_MARK >> 32), 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog program = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
}
