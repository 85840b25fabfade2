/* The built-in default model: the GGUF file HY2BIT_DEFAULT_MODEL_FILE (a
   quoted path, set by CMake) linked into read-only data, so `hy2bit run` with
   no -m has a real model without a download or a cache file. Page-aligned,
   as a memory-mapped file would be, since the weights are used in place.
   default_model.cpp gives the C++ view of it. */
    .section .rodata.hy2bit_default_model,"a"
    .balign 4096
    .globl hy2bit_default_model_begin
hy2bit_default_model_begin:
    .incbin HY2BIT_DEFAULT_MODEL_FILE
    .globl hy2bit_default_model_end
hy2bit_default_model_end:
    .section .note.GNU-stack,"",%progbits
