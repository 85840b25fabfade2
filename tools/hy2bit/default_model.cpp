// The C++ view of the GGUF image that default_model.S links in.
#include "default_model.h"

extern "C" const uint8_t hy2bit_default_model_begin[];
extern "C" const uint8_t hy2bit_default_model_end[];

namespace hy2bit::tools {

const DefaultModel& default_model() {
  static const DefaultModel model{
      .name = HY2BIT_DEFAULT_MODEL_NAME,
      .bytes = std::span<const uint8_t>(hy2bit_default_model_begin,
                                        static_cast<size_t>(hy2bit_default_model_end - hy2bit_default_model_begin)),
  };
  return model;
}

}  // namespace hy2bit::tools
