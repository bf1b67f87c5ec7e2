// cuda_cpu.h - runs CUDA kernel source on CPU threads, to test kernels where there is no GPU.
//
// USE: compile with -DFLUXMINER_CUDA_CPU (defined here too if missing), include this header first,
// then the kernel source verbatim (g++ -std=c++17 -O2 -pthread, -fPIC -shared for a library). In
// CUDA mode the header is not included and the kernel file defines, #ifndef FLUXMINER_CUDA_CPU:
//   #define SHARED_ARRAY(T, n, c) __shared__ T n[c]
//   #define SHARED_AS(U, n, i)    (*reinterpret_cast<U*>(&(n)[i]))
//
// EXECUTION: cuda_cpu::launch(kernel, grid, block, args...) runs the grid on OS worker threads
// (set_threads; 0 = hardware_concurrency, the calling thread is one of them). Each block runs
// entirely on one OS thread with its CUDA threads as fibers (x86-64: the small context switch
// below; other targets: ucontext). A fiber runs until it reaches __syncthreads or a warp op, or
// returns, then switches to the next runnable fiber. Whenever fibers become runnable (block start,
// barrier release, warp op completion) they resume in a random order drawn from the seed
// (set_seed), the launch count since set_seed and the block index: runs are reproducible and a
// missing barrier shows up with varying seeds. Warp w is the threads with linear id 32w..32w+31.
//
// CHECKS: SHARED_ARRAY(T, name, count), at function or namespace scope, is a per-OS-thread object
// filled with 0xCD when a block first touches it (CUDA shared memory starts as garbage). name[i]
// is a proxy that checks the bounds (always) and, with set_checks(true) (the default), races:
// within one barrier interval, an element written by one thread and accessed by another, or
// accessed atomically by one thread and plainly by another, is an error (only atomics, or only
// reads, are fine). A warp op whose mask covers every live lane of the warp also orders that
// warp's accesses (as __syncwarp does). &name[i] is for the atomics only. SHARED_AS(U, name, i)
// is the U at the bytes of element i (alignof(U) and bounds checked), read or assigned whole.
// Barriers: threads waiting at different __syncthreads() is an error (divergence); threads that
// returned count as arrived. Warp ops: every lane of the mask must reach the same kind of op with
// the same mask; a lane that exited or waits elsewhere is an error, as is reading a lane outside
// the mask.
//
// ERRORS (out of bounds, race, misaligned view, barrier divergence, warp op mismatch, fiber stack
// overflow, bad launch configuration): the first is kept as a message, its block is abandoned, the
// remaining blocks are skipped, and launch() returns the message (nullptr on success; also
// last_error()). Nothing aborts the process (a stack overflow past the 4 KiB red zone can fault).
//
// EXPORTS for a host that dlopen()s the kernels: CUDA_CPU_EXPORT(kernel, ArgsType) defines
// extern "C" int fmcpu_<kernel>(gx, gy, gz, bx, by, bz, const void* args), 0 on success, for a
// kernel taking one trivially copyable struct. fmcpu_last_error() ("" if none), fmcpu_set_threads,
// fmcpu_set_seed and fmcpu_set_checks are weak definitions in this header (so
// CUDA_CPU_EXPORT_RUNTIME() is optional and expands to nothing). Internal symbols are hidden.
//
// LIMITS: a shared array has no pointer form (index it; pass &a[i] to atomics only); a proxy bound
// to `auto` stays a proxy (name the type) and must be cast for printf (passing it is a compile
// error); `name[i].x` on a struct element does not compile (copy the element); views have no
// compound assignment or atomics; partial-mask warp ops do not order shared accesses; lanes past
// the end of the block are ignored in masks; __byte_perm uses the documented 3-bit selectors; a
// thread spinning on another thread of its block never yields (deadlock); launches are serialised;
// AddressSanitizer does not understand the fiber stacks; g++ -Wall warns about `#pragma unroll`
// (add -Wno-unknown-pragmas).
#ifndef FLUXMINER_CUDA_CPU_H
#define FLUXMINER_CUDA_CPU_H
#ifndef FLUXMINER_CUDA_CPU
#define FLUXMINER_CUDA_CPU 1
#endif
#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>  // before __noinline__ is defined: libstdc++ spells __attribute__((__noinline__))
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>
#include <sys/mman.h>
// The assembly switch is for x86-64 ELF; not under -fcf-protection=return/full, which marks the
// object shadow-stack compatible (the switch is not). -DCUDA_CPU_ASM_SWITCH=0 forces ucontext.
#ifndef CUDA_CPU_ASM_SWITCH
#if defined(__x86_64__) && defined(__ELF__) && !(defined(__CET__) && (__CET__ & 2))
#define CUDA_CPU_ASM_SWITCH 1
#else
#define CUDA_CPU_ASM_SWITCH 0
#endif
#endif
#if !CUDA_CPU_ASM_SWITCH
#include <ucontext.h>
#endif
#pragma GCC visibility push(hidden)  // no clash between two kernel libraries in one process

// ---- qualifiers, types, built-ins ---------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
struct uint3 { unsigned x, y, z; };
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};
struct alignas(8) uint2 { unsigned x, y; };
struct alignas(16) uint4 { unsigned x, y, z, w; };
struct alignas(16) ulonglong2 { unsigned long long x, y; };
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }
inline ulonglong2 make_ulonglong2(unsigned long long x, unsigned long long y) { return {x, y}; }
// Per OS thread; the scheduler stores a fiber's threadIdx before switching to it.
inline thread_local uint3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0};
inline thread_local dim3 blockDim, gridDim;
inline constexpr int warpSize = 32;

namespace cuda_cpu {
namespace detail {
#if CUDA_CPU_ASM_SWITCH
// Pushes rbp rbx r12-r15, MXCSR and the x87 control word, stores rsp in *save_sp, loads new_sp
// and pops the same from there. Weak, so every translation unit may carry a copy.
extern "C" void cuda_cpu_swap_ctx(void** save_sp, void* new_sp);
__asm__(".pushsection .text\n.weak cuda_cpu_swap_ctx\n.hidden cuda_cpu_swap_ctx\n"
        ".type cuda_cpu_swap_ctx,@function\n.p2align 4\ncuda_cpu_swap_ctx:\n"
        "  pushq %rbp\n  pushq %rbx\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  subq $8, %rsp\n  stmxcsr (%rsp)\n  fnstcw 4(%rsp)\n  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n  ldmxcsr (%rsp)\n  fldcw 4(%rsp)\n  addq $8, %rsp\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbx\n  popq %rbp\n  ret\n"
        ".size cuda_cpu_swap_ctx, .-cuda_cpu_swap_ctx\n.popsection\n");
#endif

enum : uint8_t { ST_RUN, ST_BAR, ST_WARP, ST_DONE };                               // fiber state
enum : uint8_t { W_IDX, W_UP, W_DOWN, W_XOR, W_BALLOT, W_ANY, W_ALL, W_SYNC };  // warp op
inline const char* const kOpName[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync",
    "__shfl_xor_sync", "__ballot_sync", "__any_sync", "__all_sync", "__syncwarp"};
struct Site { const char* file; int line; };  // where a barrier / warp op is in the source
inline bool same_site(Site a, Site b) {
  return a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

// Stack slot: [guard page | canary word ... 4 KiB red zone | 64 KiB | 0-16 KiB]. The top moves
// down (17 i mod 256) cache lines so the fibers' hot frames spread over the cache sets. A fiber
// that blocks with its frame in the red zone, or clobbers the canary, is reported.
constexpr size_t kGuard = 4096, kRed = 4096, kStack = kRed + (64 << 10), kColor = 16 << 10;
constexpr size_t kSlot = kGuard + kStack + kColor;
constexpr uint64_t kCanary = 0xC0DA57ACC0DA57ACull;

struct Fiber {
  void* sp;          // saved stack pointer
  char* lo;          // lowest byte of the stack (canary)
  uint3 idx;         // threadIdx
  uint32_t tid;      // linear id in the block
  uint8_t state, op; // ST_*, and W_* while waiting at a warp op
  bool parked;       // finished a block: resumes in fiber_main's loop, no new frame needed
  Site site;         // where it waits
  uint32_t mask;     // warp op: mask, lane / delta / lane mask, width, operand, result
  int arg, width;
  uint64_t val, res;
#if !CUDA_CPU_ASM_SWITCH
  ucontext_t uc;
#endif
};

struct Job {  // one launch
  void (*fn)(const void*);  // runs the kernel on the calling fiber
  const void* arg;
  dim3 grid, block;
  uint64_t nblocks, seed;
  uint32_t nthr;
  bool checks;
  std::atomic<uint64_t> next{0};  // next block to run
};

struct Worker {  // fiber stacks and records of one worker, reused by every launch
  char* mem = nullptr;
  size_t nslots = 0;
  std::vector<Fiber> f;
  std::vector<uint16_t> runq;
  Worker() = default;
  Worker(const Worker&) = delete;
  ~Worker() { if (mem) munmap(mem, nslots * kSlot); }
  bool ensure(size_t n) {
    if (n <= nslots) return true;
    if (mem) munmap(mem, nslots * kSlot);
    void* m = mmap(nullptr, n * kSlot, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    mem = m == MAP_FAILED ? nullptr : static_cast<char*>(m);
    nslots = mem ? n : 0;
    f.assign(nslots, Fiber{});
    runq.reserve(nslots);
    for (size_t i = 0; i < nslots; ++i) {
      mprotect(mem + i * kSlot, kGuard, PROT_NONE);
      f[i].lo = mem + i * kSlot + kGuard;
      std::memcpy(f[i].lo, &kCanary, 8);
    }
    return mem != nullptr;
  }
};

struct SharedBase;
struct Tls {  // scheduler state of one OS thread (all fibers of a block live on one OS thread)
  Job* job = nullptr;
  Worker* w = nullptr;
  Fiber* cur = nullptr;  // running fiber; nullptr in the scheduler and outside launches
  void* sched_sp = nullptr;
#if !CUDA_CPU_ASM_SWITCH
  ucontext_t sched_uc;
#endif
  SharedBase* arrays = nullptr;  // this thread's shared arrays (a list)
  uint64_t serial = 0;           // blocks run; a shared array re-poisons when it changes
  uint32_t epoch = 0;            // barrier interval, 20 bits
  bool checks = true, aborted = false;
  uint32_t live = 0, nbar = 0, npend = 0, warps_pending = 0, qpos = 0;
  int bar_first = -1, bar_bad = -1;
  Site bar_site{"", 0};
  uint16_t wepoch[32] = {};  // per warp: full-warp synchronisations so far
  uint64_t rng = 1;
};
inline thread_local Tls tls;

struct Runtime {
  std::mutex launch_mu, err_mu;
  std::string err;
  bool has_err = false, checks = true;
  std::atomic<bool> failed{false};
  unsigned threads = 0;
  uint64_t seed = 0x5eed0fc0dac0ffeeull, launch_no = 0;
  std::vector<std::unique_ptr<Worker>> workers;
};
inline Runtime& rt() { static Runtime r; return r; }

inline uint64_t splitmix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
inline uint32_t rnd(uint64_t& s) {  // xorshift64*
  s ^= s >> 12; s ^= s << 25; s ^= s >> 27;
  return uint32_t((s * 0x2545F4914F6CDD1Dull) >> 32);
}

// ---- errors -------------------------------------------------------------------------------------
__attribute__((format(printf, 1, 2))) inline std::string strf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}
inline std::string thr(uint32_t tid) {  // "thread (x,y,z)" for a linear id of the running block
  const dim3 b = blockDim;
  return strf("thread (%u,%u,%u)", tid % b.x, tid / b.x % b.y, tid / (b.x * b.y));
}
inline std::string blk() { return strf("block (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z); }
inline std::string at(Site s) { return strf("%s:%d", s.file, s.line); }
inline void record_error(const std::string& m) {  // the first error of a launch wins
  Runtime& r = rt();
  std::lock_guard<std::mutex> g(r.err_mu);
  if (!r.has_err) { r.err = "cuda_cpu: " + m; r.has_err = true; }
  r.failed.store(true);
}

// ---- fibers -------------------------------------------------------------------------------------
__attribute__((noinline, cold)) inline void stack_overflow(Tls& t) {
  t.aborted = true;
  record_error("fiber stack overflow, " + thr(t.cur->tid) + " " + blk());
}
// The running fiber blocks or ends: switch straight to the next fiber of the run queue, or back
// to the scheduler when the queue is exhausted or the block is abandoned.
inline void yield(Tls& t) {
  Fiber* f = t.cur;
  if (static_cast<char*>(__builtin_frame_address(0)) < f->lo + kRed && !t.aborted)
    stack_overflow(t);
  Fiber* next = nullptr;
  if (!t.aborted && t.qpos < t.w->runq.size()) {
    next = &t.w->f[t.w->runq[t.qpos++]];
    t.cur = next;
    threadIdx = next->idx;
  }
#if CUDA_CPU_ASM_SWITCH
  cuda_cpu_swap_ctx(&f->sp, next ? next->sp : t.sched_sp);
#else
  swapcontext(&f->uc, next ? &next->uc : &t.sched_uc);
#endif
}
// An error found on a fiber: record it and abandon the block (this fiber never resumes).
// Returns only outside a launch.
inline void kernel_fail(const std::string& m, bool name_thread = true) {
  Tls& t = tls;
  if (!t.cur) { record_error(m); return; }
  record_error(m + ", " + (name_thread ? thr(t.cur->tid) + " " : std::string()) + blk());
  t.aborted = true;
  yield(t);
}
[[noreturn]] inline void fiber_main() {  // where a fiber starts; it then runs one thread per block
  Tls& t = tls;  // fibers are reused only within a launch, hence on one OS thread
  for (;;) {
    t.job->fn(t.job->arg);
    t.cur->state = ST_DONE;
    t.cur->parked = true;
    t.live--;
    yield(t);
  }
}
#if !CUDA_CPU_ASM_SWITCH
inline void fiber_main_c() { fiber_main(); }
#endif

inline void syncthreads(Site s) {
  Tls& t = tls;
  Fiber* f = t.cur;
  if (!f) return;
  if (t.nbar == 0) { t.bar_site = s; t.bar_first = int(f->tid); }
  else if (t.bar_bad < 0 && !same_site(s, t.bar_site)) t.bar_bad = int(f->tid);
  f->site = s;
  f->state = ST_BAR;
  t.nbar++;
  yield(t);
}

inline uint64_t warp_op(Site s, uint8_t op, unsigned mask, uint64_t val, int arg, int width) {
  Tls& t = tls;
  Fiber* f = t.cur;
  if (!f) return val;
  if (!(mask >> (f->tid & 31) & 1u))
    kernel_fail(strf("%s at %s: the calling lane %u is not in mask 0x%08x", kOpName[op],
                     at(s).c_str(), f->tid & 31, mask));
  if (width < 1 || width > 32 || (width & (width - 1)))
    kernel_fail(strf("%s at %s: width %d is not a power of two <= 32", kOpName[op],
                     at(s).c_str(), width));
  f->op = op; f->mask = mask; f->val = val; f->arg = arg; f->width = width; f->site = s;
  f->state = ST_WARP;
  t.npend++;
  t.warps_pending |= 1u << (f->tid >> 5);
  yield(t);
  return f->res;
}

// Scheduler, everything blocked: complete the warp ops (all lanes of each mask have arrived at
// the same op, or it is an error) and queue their lanes. Shuffles follow PTX shfl.sync.
inline bool resolve_warps(Tls& t, Worker& w) {
  const uint32_t n = t.job->nthr;
  for (uint32_t wm = t.warps_pending; wm; wm &= wm - 1) {
    const uint32_t base = uint32_t(__builtin_ctz(wm)) * 32, cnt = n - base < 32 ? n - base : 32;
    for (uint32_t l = 0; l < cnt; ++l) {
      Fiber& f = w.f[base + l];
      if (f.state != ST_WARP) continue;
      const uint32_t m = f.mask & (cnt == 32 ? ~0u : (1u << cnt) - 1);  // lanes that exist
      uint32_t votes = 0, live = 0;
      for (uint32_t j = 0; j < cnt; ++j) {
        Fiber& g = w.f[base + j];
        if (!(m >> j & 1u)) continue;
        std::string bad;
        if (g.state == ST_DONE) bad = "has exited";
        else if (g.state == ST_BAR) bad = "waits at __syncthreads() at " + at(g.site);
        else if (g.op != f.op || g.mask != f.mask || g.width != f.width)
          bad = strf("waits at %s(mask 0x%08x) at %s", kOpName[g.op], g.mask, at(g.site).c_str());
        if (!bad.empty()) {
          record_error(strf("warp op mismatch: %s(mask 0x%08x) at %s by ", kOpName[f.op], f.mask,
                            at(f.site).c_str()) + thr(f.tid) + ": lane " + std::to_string(j) +
                       " (" + thr(g.tid) + ") " + bad + ", " + blk());
          return false;
        }
        votes |= uint32_t(g.val != 0) << j;
      }
      const uint32_t seg = 32u - uint32_t(f.width);  // PTX segment mask (c[12:8])
      for (uint32_t j = 0; j < cnt; ++j) {
        Fiber& g = w.f[base + j];
        if (!(m >> j & 1u)) continue;
        const uint32_t b = uint32_t(g.arg) & 31u, maxl = (j & seg) | (31u & ~seg);
        uint32_t src = j;
        switch (g.op) {
          case W_IDX: src = (j & seg) | (b & ~seg); break;
          case W_UP: src = j >= (j & seg) + b ? j - b : j; break;
          case W_DOWN: src = j + b <= maxl ? j + b : j; break;
          case W_XOR: src = (j ^ b) <= maxl ? j ^ b : j; break;
          case W_BALLOT: g.res = votes; break;
          case W_ANY: g.res = votes != 0; break;
          case W_ALL: g.res = votes == m; break;
          default: g.res = 0;
        }
        if (g.op > W_XOR) continue;
        if (!(m >> src & 1u)) {
          record_error(strf("%s at %s: lane %u (", kOpName[g.op], at(g.site).c_str(), j) +
                       thr(g.tid) + strf(") reads lane %u, which is not in mask 0x%08x, ", src,
                                         g.mask) + blk());
          return false;
        }
        g.res = w.f[base + src].val;
      }
      for (uint32_t j = 0; j < cnt; ++j) {
        Fiber& g = w.f[base + j];
        if (m >> j & 1u) { g.state = ST_RUN; w.runq.push_back(uint16_t(base + j)); t.npend--; }
        live |= uint32_t(g.state != ST_DONE) << j;
      }
      if ((live & ~m) == 0) t.wepoch[base >> 5]++;  // the whole warp synchronised
    }
  }
  t.warps_pending = 0;
  return true;
}

inline void next_epoch(Tls& t);

// Runs one block to completion, or abandons it on error.
inline void run_block(Tls& t, Worker& w, uint64_t b) {
  Job& j = *t.job;
  const uint32_t n = j.nthr, bx = j.block.x, by = j.block.y;
  blockIdx = uint3{unsigned(b % j.grid.x), unsigned(b / j.grid.x % j.grid.y),
                   unsigned(b / (uint64_t(j.grid.x) * j.grid.y))};
  t.serial++;
  next_epoch(t);
  t.live = n; t.nbar = 0; t.npend = 0; t.warps_pending = 0; t.bar_bad = -1; t.aborted = false;
  t.rng = splitmix(j.seed ^ splitmix(b)) | 1;
  w.runq.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    Fiber& f = w.f[i];
    f.tid = i;
    f.idx = uint3{i % bx, i / bx % by, i / (bx * by)};
    f.state = ST_RUN;
    w.runq[i] = uint16_t(i);
    if (f.parked) { f.parked = false; continue; }
    char* top = f.lo + kStack + kColor - (i * 17 % 256) * 64;
#if CUDA_CPU_ASM_SWITCH
    uint64_t* sp = reinterpret_cast<uint64_t*>(top);  // the frame cuda_cpu_swap_ctx pops:
    sp[-1] = 0;                                        // fiber_main's (fake) return address,
    sp[-2] = reinterpret_cast<uint64_t>(&fiber_main);  // where the switch "returns" to,
    for (int k = 3; k <= 8; ++k) sp[-k] = 0;           // rbp rbx r12 r13 r14 r15,
    sp[-9] = 0x1F80ull | (0x037Full << 32);            // default MXCSR and x87 control word
    f.sp = sp - 9;
#else
    getcontext(&f.uc);
    f.uc.uc_stack.ss_sp = f.lo;
    f.uc.uc_stack.ss_size = size_t(top - f.lo);
    f.uc.uc_link = nullptr;
    makecontext(&f.uc, fiber_main_c, 0);
#endif
  }
  for (;;) {
    for (size_t i = w.runq.size(); i > 1; --i)  // random resume order (Fisher-Yates)
      std::swap(w.runq[i - 1], w.runq[(uint64_t(rnd(t.rng)) * i) >> 32]);
    if (!w.runq.empty()) {  // run the queue; the last fiber to block switches back here
      Fiber& f = w.f[w.runq[0]];
      t.qpos = 1;
      t.cur = &f;
      threadIdx = f.idx;
#if CUDA_CPU_ASM_SWITCH
      cuda_cpu_swap_ctx(&t.sched_sp, f.sp);
#else
      swapcontext(&t.sched_uc, &f.uc);
#endif
    }
    t.cur = nullptr;
    if (t.aborted) return;
    w.runq.clear();
    if (t.live == 0) break;
    if (t.npend) {
      if (!resolve_warps(t, w)) return;
      if (!w.runq.empty()) continue;
    }
    if (t.nbar != t.live) { record_error("deadlock, " + blk()); return; }  // not expected
    if (t.bar_bad >= 0) {
      record_error("barrier divergence: " + thr(uint32_t(t.bar_first)) + " waits at "
                   "__syncthreads() at " + at(t.bar_site) + ", " + thr(uint32_t(t.bar_bad)) +
                   " at " + at(w.f[uint32_t(t.bar_bad)].site) + ", " + blk());
      return;
    }
    next_epoch(t);  // barrier release
    t.nbar = 0;
    for (uint32_t i = 0; i < n; ++i)
      if (w.f[i].state == ST_BAR) { w.f[i].state = ST_RUN; w.runq.push_back(uint16_t(i)); }
  }
  for (uint32_t i = 0; i < n; ++i)
    if (std::memcmp(w.f[i].lo, &kCanary, 8) != 0) {
      std::memcpy(w.f[i].lo, &kCanary, 8);
      record_error("fiber stack overflow (canary), " + thr(i) + " " + blk());
      return;
    }
}

inline void worker_main(Job* j, Worker* w) {
  Tls& t = tls;
  t.job = j; t.w = w; t.checks = j->checks;
  blockDim = j->block;
  gridDim = j->grid;
  if (!w->ensure(j->nthr)) { record_error("cannot allocate fiber stacks"); return; }
  for (Fiber& f : w->f) f.parked = false;  // new frames: the kernel or the OS thread changed
  for (;;) {
    if (rt().failed.load(std::memory_order_relaxed)) break;
    const uint64_t b = j->next.fetch_add(1, std::memory_order_relaxed);
    if (b >= j->nblocks) break;
    run_block(t, *w, b);
  }
  t.job = nullptr; t.w = nullptr; t.cur = nullptr;
}

inline const char* run_grid(dim3 g, dim3 b, void (*fn)(const void*), const void* arg) {
  Runtime& r = rt();
  std::lock_guard<std::mutex> lk(r.launch_mu);
  r.err.clear(); r.has_err = false; r.failed = false;
  const uint64_t nthr = uint64_t(b.x) * b.y * b.z, nblk = uint64_t(g.x) * g.y * g.z;
  if (nthr == 0 || nthr > 1024 || b.z > 64 || nblk == 0 || g.y > 65535 || g.z > 65535) {
    record_error(strf("invalid launch configuration: grid (%u,%u,%u), block (%u,%u,%u)", g.x,
                      g.y, g.z, b.x, b.y, b.z));
    return r.err.c_str();
  }
  Job j;
  j.fn = fn; j.arg = arg; j.grid = g; j.block = b; j.nblocks = nblk; j.nthr = uint32_t(nthr);
  j.seed = splitmix(r.seed + splitmix(r.launch_no++));
  j.checks = r.checks;
  unsigned nw = r.threads ? r.threads : std::thread::hardware_concurrency();
  nw = nw == 0 ? 1 : nw > nblk ? unsigned(nblk) : nw;
  while (r.workers.size() < nw) r.workers.emplace_back(new Worker);
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < nw; ++i) pool.emplace_back(worker_main, &j, r.workers[i].get());
  worker_main(&j, r.workers[0].get());
  for (auto& th : pool) th.join();
  return r.has_err ? r.err.c_str() : nullptr;
}

template <class K, class Tup> struct Thunk {
  K k;
  Tup args;
  static void run(const void* p) {  // each fiber calls the kernel with its own argument copies
    const Thunk* s = static_cast<const Thunk*>(p);
    std::apply(s->k, s->args);
  }
};

// ---- shared memory ------------------------------------------------------------------------------
// Shadow word per element, describing the current barrier interval: bits 0-19 interval, 20-35
// full-warp syncs of the last accessor's warp, 36-45 last accessor, 46-55 another accessor (once
// several), then the kinds seen and whether several threads / several warps accessed it.
constexpr uint64_t kEpochMask = (1u << 20) - 1, SH_R = 1ull << 56, SH_W = 1ull << 57;
constexpr uint64_t SH_A = 1ull << 58, SH_MT = 1ull << 59, SH_MW = 1ull << 60;

#define CUDA_CPU_AI __attribute__((always_inline))  // the proxies must melt into the kernel
struct SharedBase {
  Tls* t;
  const char* name;
  unsigned char* bytes;
  uint64_t* shadow;
  size_t count, esize;
  uint64_t serial = 0;
  SharedBase* next = nullptr;
  CUDA_CPU_AI void touch() {  // first access in a block: poison (CUDA shared memory is garbage)
    if (serial != t->serial) { serial = t->serial; std::memset(bytes, 0xCD, count * esize); }
  }
  static std::string kinds(uint64_t k) {
    std::string s = k & SH_R ? "read" : "";
    if (k & SH_W) s += s.empty() ? "write" : "+write";
    if (k & SH_A) s += s.empty() ? "atomic" : "+atomic";
    return s;
  }
  __attribute__((noinline, cold)) void race(size_t i, uint64_t s, uint32_t tid, uint64_t k) {
    const uint32_t last = uint32_t(s >> 36) & 1023;
    const uint32_t other = last != tid ? last : uint32_t(s >> 46) & 1023;
    kernel_fail(strf("race on shared array '%s'[%zu]: ", name, i) + kinds(k) + " by " + thr(tid) +
                " after " + kinds(s) + " by " + thr(other) + (s & SH_MT ? " (and others)" : "") +
                " in the same barrier interval (missing __syncthreads?)", false);
  }
  CUDA_CPU_AI void access(size_t i, uint64_t k) {  // race check of an access of kind k
    Tls& tt = *t;
    if (!tt.checks || !tt.cur) return;
    const uint64_t tid = tt.cur->tid, w = tid >> 5, we = tt.wepoch[w], s = shadow[i];
    if ((s & kEpochMask) == tt.epoch) {
      const uint64_t last = s >> 36 & 1023;
      if ((s & SH_MW) || last >> 5 != w || (s >> 20 & 0xFFFF) == we) {  // no warp sync since
        if (last == tid && !(s & SH_MT)) { shadow[i] = s | k; return; }
        const uint64_t prev = s & (SH_R | SH_W | SH_A);
        if (k == SH_W || (prev & SH_W) || (prev & ~k & (SH_R | SH_A))) race(i, s, uint32_t(tid), k);
        const uint64_t other = last != tid ? last : s >> 46 & 1023;
        shadow[i] = tt.epoch | we << 20 | tid << 36 | other << 46 | prev | k | SH_MT |
                    (s & SH_MW) | (last >> 5 != w ? SH_MW : 0);
        return;
      }
    }
    shadow[i] = tt.epoch | we << 20 | tid << 36 | k;
  }
  __attribute__((noinline, cold)) void oob(long long i) {
    kernel_fail(strf("shared array '%s' index %lld out of bounds (count %zu)", name, i, count));
  }
  CUDA_CPU_AI size_t index(long long i) {
    touch();
    if (i >= 0 && size_t(i) < count) return size_t(i);
    oob(i);
    return 0;  // only reached outside a launch
  }
};
inline void next_epoch(Tls& t) {  // a new barrier interval; on wrap-around clear all shadows
  if (++t.epoch <= kEpochMask) return;
  t.epoch = 1;
  for (SharedBase* a = t.arrays; a; a = a->next) std::memset(a->shadow, 0, a->count * 8);
}

template <class T> struct SPtr { SharedBase* a; size_t i; };  // &name[i], for the atomics
template <class T> struct Ref {                               // name[i]
  SharedBase* a;
  size_t i;
  CUDA_CPU_AI Ref(SharedBase* a_, size_t i_) : a(a_), i(i_) {}
  CUDA_CPU_AI Ref(const Ref& o) : a(o.a), i(o.i) {}  // user-provided: no proxy through printf
  CUDA_CPU_AI T& raw(uint64_t k) const {
    a->access(i, k);
    return reinterpret_cast<T*>(a->bytes)[i];
  }
  CUDA_CPU_AI operator T() const { return raw(SH_R); }
  CUDA_CPU_AI Ref& operator=(const T& v) { raw(SH_W) = v; return *this; }
  CUDA_CPU_AI Ref& operator=(const Ref& o) { T v = o; raw(SH_W) = v; return *this; }
#define CUDA_CPU_OP(op) CUDA_CPU_AI Ref& operator op(const T& v) { raw(SH_W) op v; return *this; }
  CUDA_CPU_OP(+=) CUDA_CPU_OP(-=) CUDA_CPU_OP(*=) CUDA_CPU_OP(/=) CUDA_CPU_OP(%=)
  CUDA_CPU_OP(&=) CUDA_CPU_OP(|=) CUDA_CPU_OP(^=) CUDA_CPU_OP(<<=) CUDA_CPU_OP(>>=)
#undef CUDA_CPU_OP
  CUDA_CPU_AI T operator++() { return ++raw(SH_W); }
  CUDA_CPU_AI T operator--() { return --raw(SH_W); }
  CUDA_CPU_AI T operator++(int) { return raw(SH_W)++; }
  CUDA_CPU_AI T operator--(int) { return raw(SH_W)--; }
  CUDA_CPU_AI SPtr<T> operator&() const { return {a, i}; }
};
template <class U> struct View {  // SHARED_AS(U, name, i): the U at the bytes of element i
  SharedBase* a;
  size_t first, last;
  unsigned char* p;
  void mark(uint64_t k) const { for (size_t e = first; e <= last; ++e) a->access(e, k); }
  operator U() const { mark(SH_R); U v; std::memcpy(&v, p, sizeof(U)); return v; }
  View& operator=(const U& v) { mark(SH_W); std::memcpy(p, &v, sizeof(U)); return *this; }
  View& operator=(const View& o) { U v = o; return *this = v; }
};

template <class T, size_t N> struct Shared : SharedBase {
  alignas(16) T data[N];
  uint64_t sh[N];
  explicit Shared(const char* n)
      : SharedBase{&tls, n, reinterpret_cast<unsigned char*>(data), sh, N, sizeof(T)} {
    next = tls.arrays;
    tls.arrays = this;
  }
  CUDA_CPU_AI Ref<T> operator[](long long i) { return Ref<T>(this, index(i)); }
  template <class U> View<U> as(long long i, const char* uname = "U") {
    static_assert(std::is_trivially_copyable<U>::value, "as<U>: U must be trivially copyable");
    touch();
    const size_t off = size_t(i) * sizeof(T);
    const char* bad = i < 0 || size_t(i) >= N || off + sizeof(U) > sizeof(data) ? "out of bounds"
                      : off % alignof(U) ? "misaligned" : nullptr;
    if (!bad) return View<U>{this, size_t(i), (off + sizeof(U) - 1) / sizeof(T), bytes + off};
    kernel_fail(strf("shared array '%s' (count %zu) viewed as %s (size %zu, align %zu) at index "
                     "%lld: %s", name, N, uname, sizeof(U), alignof(U), i, bad));
    return View<U>{this, 0, 0, bytes};  // only reached outside a launch
  }
};

template <class T> struct Plain { using type = T; };  // the value type behind a proxy
template <class T> struct Plain<Ref<T>> { using type = T; };
template <class T> struct Plain<View<T>> { using type = T; };
template <class T> struct Id { using type = T; };
template <class T> using NoDeduce = typename Id<T>::type;

struct At {  // call site of a barrier / warp op, created by the macros below
  const char* file;
  int line;
  void syncthreads() const { detail::syncthreads({file, line}); }
  void syncwarp(unsigned m = 0xFFFFFFFFu) const { warp_op({file, line}, W_SYNC, m, 0, 0, 32); }
  template <class T> typename Plain<T>::type sh(uint8_t op, unsigned m, const T& v, int a,
                                               int width) const {
    using V = typename Plain<T>::type;
    static_assert(sizeof(V) <= 8 && std::is_trivially_copyable<V>::value, "shuffle type");
    const V x = v;
    uint64_t bits = 0;
    std::memcpy(&bits, &x, sizeof(V));
    bits = warp_op({file, line}, op, m, bits, a, width);
    V r;
    std::memcpy(&r, &bits, sizeof(V));
    return r;
  }
#define CUDA_CPU_SHFL(name, op, A) \
  template <class T> auto name(unsigned m, const T& v, A a, int w = 32) const { \
    return sh(op, m, v, int(a), w); }
  CUDA_CPU_SHFL(shfl, W_IDX, int) CUDA_CPU_SHFL(shfl_up, W_UP, unsigned)
  CUDA_CPU_SHFL(shfl_down, W_DOWN, unsigned) CUDA_CPU_SHFL(shfl_xor, W_XOR, int)
#undef CUDA_CPU_SHFL
  unsigned ballot(unsigned m, int p) const {
    return unsigned(warp_op({file, line}, W_BALLOT, m, p != 0, 0, 32));
  }
  int any(unsigned m, int p) const { return int(warp_op({file, line}, W_ANY, m, p != 0, 0, 32)); }
  int all(unsigned m, int p) const { return int(warp_op({file, line}, W_ALL, m, p != 0, 0, 32)); }
};

template <class T, class F> inline CUDA_CPU_AI T shared_rmw(SPtr<T> p, F f) {  // shared atomic
  p.a->access(p.i, SH_A);  // fibers never interleave inside it: a plain read-modify-write
  T& r = reinterpret_cast<T*>(p.a->bytes)[p.i];
  const T old = r;
  r = f(old);
  return old;
}
}  // namespace detail

// ---- public API ---------------------------------------------------------------------------------
using detail::Shared;
// Runs kernel on grid x block; nullptr on success, else the first error (valid until the next
// launch). Arguments are converted to the kernel's parameter types once.
template <class... P, class... A>
const char* launch(void (*kernel)(P...), dim3 grid, dim3 block, A&&... args) {
  static_assert(sizeof...(P) == sizeof...(A), "launch: wrong number of kernel arguments");
  using Th = detail::Thunk<void (*)(P...), std::tuple<std::decay_t<P>...>>;
  Th th{kernel, std::tuple<std::decay_t<P>...>(std::forward<A>(args)...)};
  return detail::run_grid(grid, block, &Th::run, &th);
}
inline const char* last_error() {  // of the last launch; nullptr if it succeeded
  std::lock_guard<std::mutex> g(detail::rt().launch_mu);
  return detail::rt().has_err ? detail::rt().err.c_str() : nullptr;
}
inline void set_threads(unsigned n) {  // worker OS threads, 0 = hardware_concurrency()
  std::lock_guard<std::mutex> g(detail::rt().launch_mu);
  detail::rt().threads = n;
}
inline void set_seed(uint64_t s) {  // scheduling seed; restarts the launch count
  std::lock_guard<std::mutex> g(detail::rt().launch_mu);
  detail::rt().seed = s;
  detail::rt().launch_no = 0;
}
inline void set_checks(bool on) {  // race checks (bounds checks are always on)
  std::lock_guard<std::mutex> g(detail::rt().launch_mu);
  detail::rt().checks = on;
}
}  // namespace cuda_cpu

// ---- CUDA spellings -----------------------------------------------------------------------------
#define SHARED_ARRAY(T, n, c) static thread_local ::cuda_cpu::Shared<T, (c)> n(#n)
#define SHARED_AS(U, n, i) ((n).template as<U>((i), #U))
#define CUDA_CPU_SITE ::cuda_cpu::detail::At{__FILE__, __LINE__}
#define __syncthreads() (CUDA_CPU_SITE.syncthreads())
#define __syncwarp(...) (CUDA_CPU_SITE.syncwarp(__VA_ARGS__))
#define __shfl_sync(...) (CUDA_CPU_SITE.shfl(__VA_ARGS__))
#define __shfl_up_sync(...) (CUDA_CPU_SITE.shfl_up(__VA_ARGS__))
#define __shfl_down_sync(...) (CUDA_CPU_SITE.shfl_down(__VA_ARGS__))
#define __shfl_xor_sync(...) (CUDA_CPU_SITE.shfl_xor(__VA_ARGS__))
#define __ballot_sync(...) (CUDA_CPU_SITE.ballot(__VA_ARGS__))
#define __any_sync(...) (CUDA_CPU_SITE.any(__VA_ARGS__))
#define __all_sync(...) (CUDA_CPU_SITE.all(__VA_ARGS__))
inline unsigned __activemask() {  // the lanes of the caller's warp that have not exited
  using namespace cuda_cpu::detail;
  if (!tls.cur) return 1u;
  const uint32_t base = tls.cur->tid & ~31u;
  unsigned m = 0;
  for (uint32_t j = 0; j < 32 && base + j < tls.job->nthr; ++j)
    m |= unsigned(tls.w->f[base + j].state != ST_DONE) << j;
  return m;
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_signal_fence(std::memory_order_seq_cst); }

// ---- atomics ------------------------------------------------------------------------------------
// Global memory: real atomics (blocks run concurrently on several OS threads).
#define CUDA_CPU_RMW(name, T, builtin) \
  inline T name(T* p, T v) { return builtin(p, v, __ATOMIC_SEQ_CST); }
#define CUDA_CPU_MINMAX_CAS(name, T, better) \
  inline T name(T* p, T v) { \
    T o = __atomic_load_n(p, __ATOMIC_RELAXED); \
    while (v better o && !__atomic_compare_exchange_n(p, &o, v, true, __ATOMIC_SEQ_CST, \
                                                      __ATOMIC_RELAXED)) {} \
    return o; \
  }
#define CUDA_CPU_GLOBAL_ATOMICS(T) \
  CUDA_CPU_RMW(atomicAdd, T, __atomic_fetch_add) CUDA_CPU_RMW(atomicSub, T, __atomic_fetch_sub) \
  CUDA_CPU_RMW(atomicExch, T, __atomic_exchange_n) CUDA_CPU_RMW(atomicOr, T, __atomic_fetch_or) \
  CUDA_CPU_RMW(atomicAnd, T, __atomic_fetch_and) CUDA_CPU_RMW(atomicXor, T, __atomic_fetch_xor) \
  CUDA_CPU_MINMAX_CAS(atomicMin, T, <) CUDA_CPU_MINMAX_CAS(atomicMax, T, >) \
  inline T atomicCAS(T* p, T c, T v) { \
    __atomic_compare_exchange_n(p, &c, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    return c; \
  }
CUDA_CPU_GLOBAL_ATOMICS(unsigned)
CUDA_CPU_GLOBAL_ATOMICS(int)
CUDA_CPU_GLOBAL_ATOMICS(unsigned long long)
inline float atomicAdd(float* p, float v) {
  float o, n;
  __atomic_load(p, &o, __ATOMIC_RELAXED);
  do n = o + v; while (!__atomic_compare_exchange(p, &o, &n, true, __ATOMIC_SEQ_CST,
                                                  __ATOMIC_RELAXED));
  return o;
}
// Shared memory, through &name[i]; the operand converts to the element type as in CUDA.
#define CUDA_CPU_SHARED_ATOMIC(name, expr) \
  template <class T> T name(cuda_cpu::detail::SPtr<T> p, cuda_cpu::detail::NoDeduce<T> v) { \
    return cuda_cpu::detail::shared_rmw(p, [&](T o) { (void)o; return T(expr); }); \
  }
CUDA_CPU_SHARED_ATOMIC(atomicAdd, o + v) CUDA_CPU_SHARED_ATOMIC(atomicSub, o - v)
CUDA_CPU_SHARED_ATOMIC(atomicExch, v) CUDA_CPU_SHARED_ATOMIC(atomicOr, o | v)
CUDA_CPU_SHARED_ATOMIC(atomicAnd, o & v) CUDA_CPU_SHARED_ATOMIC(atomicXor, o ^ v)
CUDA_CPU_SHARED_ATOMIC(atomicMin, v < o ? v : o) CUDA_CPU_SHARED_ATOMIC(atomicMax, v > o ? v : o)
template <class T> T atomicCAS(cuda_cpu::detail::SPtr<T> p, cuda_cpu::detail::NoDeduce<T> c,
                               cuda_cpu::detail::NoDeduce<T> v) {
  return cuda_cpu::detail::shared_rmw(p, [&](T o) { return o == c ? v : o; });
}
#undef CUDA_CPU_RMW
#undef CUDA_CPU_MINMAX_CAS
#undef CUDA_CPU_GLOBAL_ATOMICS
#undef CUDA_CPU_SHARED_ATOMIC

// ---- integer intrinsics (CUDA semantics) --------------------------------------------------------
inline unsigned __funnelshift_l(unsigned lo, unsigned hi, unsigned s) {  // hi:lo << (s & 31), high
  return unsigned(((uint64_t(hi) << 32 | lo) << (s & 31)) >> 32);
}
inline unsigned __funnelshift_lc(unsigned lo, unsigned hi, unsigned s) {  // shift clamped to 32
  return unsigned(((uint64_t(hi) << 32 | lo) << (s < 32 ? s : 32)) >> 32);
}
inline unsigned __funnelshift_r(unsigned lo, unsigned hi, unsigned s) {  // hi:lo >> (s & 31), low
  return unsigned((uint64_t(hi) << 32 | lo) >> (s & 31));
}
inline unsigned __funnelshift_rc(unsigned lo, unsigned hi, unsigned s) {
  return unsigned((uint64_t(hi) << 32 | lo) >> (s < 32 ? s : 32));
}
inline unsigned __byte_perm(unsigned x, unsigned y, unsigned s) {  // byte n = {y,x}[s<4n+2:4n>]
  const uint64_t in = uint64_t(y) << 32 | x;
  unsigned r = 0;
  for (int n = 0; n < 4; ++n) r |= unsigned(in >> (((s >> (4 * n)) & 7) * 8) & 0xFF) << (8 * n);
  return r;
}
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz(unsigned(x)) : 32; }
inline int __clzll(long long x) { return x ? __builtin_clzll((unsigned long long)x) : 64; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned __brev(unsigned x) {
  x = (x >> 1 & 0x55555555u) | (x & 0x55555555u) << 1;
  x = (x >> 2 & 0x33333333u) | (x & 0x33333333u) << 2;
  x = (x >> 4 & 0x0F0F0F0Fu) | (x & 0x0F0F0F0Fu) << 4;
  return __builtin_bswap32(x);
}
inline unsigned long long __brevll(unsigned long long x) {
  return (unsigned long long)__brev(unsigned(x)) << 32 | __brev(unsigned(x >> 32));
}
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
inline int __mulhi(int a, int b) { return int((int64_t(a) * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
  __extension__ typedef unsigned __int128 u128;
  return (unsigned long long)(u128(a) * b >> 64);
}
template <class T> inline T __ldg(const T* p) { return *p; }
template <class T> inline T __ldcs(const T* p) { return *p; }
template <class T> inline void __stcs(T* p, T v) { *p = v; }
#define CUDA_CPU_MINMAX(R, A, B) \
  inline R min(A a, B b) { return static_cast<R>(a) < static_cast<R>(b) ? a : b; } \
  inline R max(A a, B b) { return static_cast<R>(a) > static_cast<R>(b) ? a : b; }
CUDA_CPU_MINMAX(int, int, int) CUDA_CPU_MINMAX(unsigned, unsigned, unsigned)
CUDA_CPU_MINMAX(unsigned, int, unsigned) CUDA_CPU_MINMAX(unsigned, unsigned, int)
CUDA_CPU_MINMAX(long, long, long) CUDA_CPU_MINMAX(unsigned long, unsigned long, unsigned long)
CUDA_CPU_MINMAX(long long, long long, long long) CUDA_CPU_MINMAX(float, float, float)
CUDA_CPU_MINMAX(unsigned long long, unsigned long long, unsigned long long)
CUDA_CPU_MINMAX(double, double, double)
#undef CUDA_CPU_MINMAX
#pragma GCC visibility pop

// ---- C exports for a dlopen()ing host -----------------------------------------------------------
#define CUDA_CPU_EXPORT(kernel, ArgsType) \
  extern "C" __attribute__((visibility("default"))) int fmcpu_##kernel( \
      unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, \
      const void* args) { \
    static_assert(std::is_trivially_copyable<ArgsType>::value, "kernel argument struct"); \
    if (!args) return 2; \
    ArgsType a_; \
    std::memcpy(static_cast<void*>(&a_), args, sizeof(ArgsType)); \
    return ::cuda_cpu::launch(kernel, dim3(gx, gy, gz), dim3(bx, by, bz), a_) ? 1 : 0; \
  }
#define CUDA_CPU_EXPORT_RUNTIME() /* optional: the runtime exports below are weak definitions */
#define CUDA_CPU_WEAK_EXPORT extern "C" __attribute__((weak, visibility("default")))
CUDA_CPU_WEAK_EXPORT const char* fmcpu_last_error(void) {
  const char* e = cuda_cpu::last_error();
  return e ? e : "";
}
CUDA_CPU_WEAK_EXPORT void fmcpu_set_threads(unsigned n) { cuda_cpu::set_threads(n); }
CUDA_CPU_WEAK_EXPORT void fmcpu_set_seed(unsigned long long s) { cuda_cpu::set_seed(s); }
CUDA_CPU_WEAK_EXPORT void fmcpu_set_checks(int on) { cuda_cpu::set_checks(on != 0); }
#undef CUDA_CPU_WEAK_EXPORT
#endif  // FLUXMINER_CUDA_CPU_H
