// The few LibTorch facilities that tch does not expose. Every function is noexcept from the
// point of view of Rust: C++ exceptions never cross this boundary.
#include <c10/core/InferenceMode.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/Allocator.h>
#include <ATen/Parallel.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

extern "C" {

// Puts the calling thread in InferenceMode for the rest of its life. Autograd belongs to the
// Elixir layer (symbolic), so LibTorch's version counters and autograd dispatch are pure cost.
// BEAM scheduler threads live as long as the VM, so the guard is intentionally never destroyed.
int nx_enter_inference_mode() {
  try {
    thread_local c10::InferenceMode *guard = new c10::InferenceMode(true);
    (void)guard;
    return 0;
  } catch (...) {
    return -1;
  }
}

int nx_set_num_threads(int n) {
  try {
    at::set_num_threads(n);
    return 0;
  } catch (...) {
    return -1;
  }
}

int nx_get_num_threads() {
  try {
    return at::get_num_threads();
  } catch (...) {
    return -1;
  }
}

}  // extern "C"
