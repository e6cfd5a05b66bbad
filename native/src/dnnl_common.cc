#include "dnnl_common.h"

#include <cstdlib>
#include <new>
#include <vector>

namespace cream::onednn {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

dnnl::primitive_attr attrs() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

namespace {
struct Buffer {
  void* ptr = nullptr;
  size_t bytes = 0;
};
std::vector<Buffer>& buffers() {
  static std::vector<Buffer> b(4);
  return b;
}
}  // namespace

void* scratch(int slot, size_t bytes) {
  auto& bufs = buffers();
  if (static_cast<size_t>(slot) >= bufs.size()) bufs.resize(slot + 1);
  Buffer& b = bufs[slot];
  if (bytes > b.bytes) {
    std::free(b.ptr);
    const size_t rounded = (bytes + 63) / 64 * 64;
    b.ptr = std::aligned_alloc(64, rounded);
    if (!b.ptr) throw std::bad_alloc();
    b.bytes = rounded;
  }
  return b.ptr;
}

void run(const dnnl::primitive& prim, const dnnl::primitive_desc_base& pd,
         std::unordered_map<int, dnnl::memory> args) {
  const dnnl::memory::desc sp = pd.scratchpad_desc();
  if (sp.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, wrap(sp, scratch(0, sp.get_size())));
  prim.execute(stream(), args);
  stream().wait();
}

}  // namespace cream::onednn
