// hy2bit/system.h over the runtime: the thread pool's core count, and the
// bandwidth probe run on a pool started for the measurement alone.
#include "hy2bit/system.h"

#include "runtime/bandwidth.h"
#include "runtime/thread_pool.h"

namespace hy2bit {

int physical_core_count() { return runtime::physical_core_count(); }

size_t peak_rss_bytes() { return runtime::peak_rss_bytes(); }

double measure_read_bandwidth(int n_threads) {
  runtime::ThreadPool pool(n_threads);
  return runtime::measure_read_bandwidth(pool);
}

}  // namespace hy2bit
