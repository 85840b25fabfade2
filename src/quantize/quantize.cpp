// quantize_model: plans each tensor's output type, then streams tensors
// through the GGUF writer, quantizing rows in parallel on a thread pool.
#include "quantize/quantize.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

#include "formats/convert.h"
#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "gguf/mapped_file.h"
#include "runtime/atomic_file.h"
#include "runtime/thread_pool.h"

namespace hy2bit::quantize {
namespace {

using formats::TypeId;

bool is_float_type(TypeId id) { return id == TypeId::kF32 || id == TypeId::kF16 || id == TypeId::kBF16; }

// The output type of one tensor.
TypeId plan_type(const gguf::TensorInfo& t, const QuantizeOptions& o) {
  if (t.n_dims < 2) return TypeId::kF32;  // norms and biases stay exact
  const TypeId embedding = o.token_embedding_type.value_or(default_embedding_type(o.target));
  if (t.name == "token_embd.weight") return embedding;
  if (t.name == "output.weight") return o.output_type.value_or(embedding);
  return o.target;
}

// Largest error and exactness of q2_0c rows, merged across threads.
struct FitTally {
  std::mutex mutex;
  int64_t rows = 0, exact_rows = 0;
  float max_error = 0.0f;
};

// Converts the rows of `t` to `type` into `out`, rows split over the pool.
void convert_tensor(const gguf::TensorInfo& t, const formats::TypeInfo& type, uint64_t out_row_bytes,
                    std::vector<uint8_t>& out, runtime::ThreadPool& pool, FitTally& fit) {
  const int64_t n_cols = t.ne[0];
  const int64_t n_rows = t.n_rows();
  const uint64_t in_row_bytes = t.n_bytes / static_cast<uint64_t>(n_rows);
  out.resize(out_row_bytes * static_cast<uint64_t>(n_rows));
  pool.run([&](int thread, int n_threads) {
    const auto [begin, end] = runtime::split_range(n_rows, thread, n_threads);
    std::vector<float> row(static_cast<size_t>(n_cols));
    int64_t exact = 0;
    float max_error = 0.0f;
    for (int64_t r = begin; r < end; ++r) {
      formats::dequantize(t.type.id, t.data.data() + r * in_row_bytes, row.data(), n_cols);
      uint8_t* dst = out.data() + r * out_row_bytes;
      formats::quantize_row(type.id, row.data(), dst, n_cols);
      if (type.id == TypeId::kQ2_0C) {
        const formats::RowFit f = formats::q2_0c_row_fit(row.data(), dst, n_cols);
        exact += f.exact;
        max_error = std::max(max_error, f.max_abs_error);
      }
    }
    if (type.id != TypeId::kQ2_0C || begin >= end) return;
    std::lock_guard<std::mutex> lock(fit.mutex);
    fit.rows += end - begin;
    fit.exact_rows += exact;
    fit.max_error = std::max(fit.max_error, max_error);
  });
}

}  // namespace

TypeId default_embedding_type(TypeId target) {
  switch (target) {
    case TypeId::kQ2_0C:
    case TypeId::kQ4_0:
    case TypeId::kQ6_K:
      return TypeId::kQ6_K;
    default:
      return target;
  }
}

uint32_t file_type_for(TypeId target) {
  switch (target) {
    case TypeId::kF32: return 0;
    case TypeId::kF16: return 1;
    case TypeId::kQ4_0: return 2;
    case TypeId::kQ8_0: return 7;
    case TypeId::kQ6_K: return 18;
    case TypeId::kBF16: return 32;
    case TypeId::kQ2_0C: return 39;
  }
  return 0;
}

Result<QuantizeReport> quantize_model(const std::string& in_path, const std::string& out_path,
                                      const QuantizeOptions& options,
                                      const std::function<void(size_t, size_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  // The output is checked before the long conversion: not the input (a
  // rename over a mapped input would corrupt what is being read), not a
  // special file, in a writable folder.
  if (in_path == out_path || runtime::same_file(in_path, out_path))
    return make_error("the output '", out_path, "' is the input; write the quantized model to another file");
  HY2BIT_TRY(runtime::check_output_path(out_path));
  Result<std::unique_ptr<gguf::MappedFile>> mapped = gguf::MappedFile::open(in_path);
  if (!mapped) return mapped.error();
  Result<gguf::File> file = gguf::File::parse((*mapped)->bytes());
  if (!file) return make_error(in_path, ": ", file.error().message);

  // Plan every tensor first, so a bad input fails before anything is written.
  struct Plan {
    const gguf::TensorInfo* tensor;
    formats::TypeInfo type;
    uint64_t row_bytes;
  };
  std::vector<Plan> plans;
  QuantizeReport report;
  for (const gguf::TensorInfo& t : file->tensors()) {
    if (!is_float_type(t.type.id))
      return make_error(in_path, ": tensor '", t.name, "' is already quantized (", t.type.name,
                        "); quantize from the f16, bf16 or f32 model");
    const formats::TypeInfo type = *formats::type_info(plan_type(t, options));
    if (t.ne[0] % type.block_elems != 0)
      return make_error("tensor '", t.name, "' has rows of ", t.ne[0], " values, which is not a multiple of ",
                        type.block_elems, " as ", type.name, " needs",
                        type.id == TypeId::kQ2_0C ? " (q2_0c packs 512 weights per block)" : "");
    const uint64_t row_bytes = *formats::bytes_for_elems(type, static_cast<uint64_t>(t.ne[0]));
    plans.push_back({&t, type, row_bytes});
    report.input_bytes += t.n_bytes;
  }

  // llama-quantize's tensor order: tensors outside blocks first, then block by
  // block, by name within each; keeping it makes our files equal to its files.
  const auto layer_of = [](std::string_view name) -> long {
    if (name.substr(0, 4) != "blk.") return -1;
    return std::strtol(std::string(name.substr(4)).c_str(), nullptr, 10);
  };
  std::sort(plans.begin(), plans.end(), [&](const Plan& a, const Plan& b) {
    const long la = layer_of(a.tensor->name), lb = layer_of(b.tensor->name);
    return la != lb ? la < lb : a.tensor->name < b.tensor->name;
  });

  gguf::Writer writer(file->alignment());
  for (const auto& [key, value] : file->metadata()) writer.set(std::string(key), gguf::OwnedValue::copy_of(value));
  // Same order as llama-quantize: both keys move to the end, so our files equal its files.
  writer.remove("general.quantization_version");
  writer.remove("general.file_type");
  writer.set("general.quantization_version", gguf::OwnedValue::u32(2));
  writer.set("general.file_type", gguf::OwnedValue::u32(file_type_for(options.target)));

  runtime::ThreadPool pool(std::max(1, options.n_threads));
  FitTally fit;
  for (const Plan& p : plans) {
    std::vector<int64_t> ne(p.tensor->ne, p.tensor->ne + p.tensor->n_dims);
    QuantizeTypeTally& tally = report.output_types[std::string(p.type.name)];
    tally.tensors += 1;
    tally.bytes += p.row_bytes * static_cast<uint64_t>(p.tensor->n_rows());
    report.output_bytes += p.row_bytes * static_cast<uint64_t>(p.tensor->n_rows());
    HY2BIT_TRY(writer.add_tensor(std::string(p.tensor->name), p.type.id, std::move(ne),
                                 [&pool, &fit, p](std::vector<uint8_t>& out) -> Status {
                                   convert_tensor(*p.tensor, p.type, p.row_bytes, out, pool, fit);
                                   return Ok{};
                                 }));
  }
  HY2BIT_TRY(writer.write(out_path, progress));

  report.q2_0c_rows = fit.rows;
  report.q2_0c_exact_rows = fit.exact_rows;
  report.q2_0c_max_error = fit.max_error;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace hy2bit::quantize
