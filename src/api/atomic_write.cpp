// hy2bit/atomic_write.h over runtime::AtomicFile (runtime/atomic_file.h),
// which does the temporary-file, rename and signal-cleanup work.
#include "hy2bit/atomic_write.h"

#include <memory>

#include "runtime/atomic_file.h"

namespace hy2bit {

Status write_file_atomically(const std::string& path, std::string_view bytes) {
  Result<std::unique_ptr<runtime::AtomicFile>> file = runtime::AtomicFile::create(path);
  if (!file) return file.error();
  HY2BIT_TRY((*file)->write(bytes));
  return (*file)->commit();
}

void remove_temp_files_on_signal() { runtime::remove_temp_files_on_signal(); }

}  // namespace hy2bit
