# cmake/warnings.cmake: one INTERFACE target that carries the house warnings
# (and sanitizers) to every custodia target, like ccache's standard_settings.
add_library(custodia_settings INTERFACE)
target_compile_options(custodia_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Werror=unused-result)
if(CU_WERROR)
  target_compile_options(custodia_settings INTERFACE -Werror)
endif()
target_compile_definitions(custodia_settings INTERFACE
  $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)
if(CU_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CU_FUZZ needs clang (libFuzzer): CXX=clang++ cmake ... (scripts/fuzz.sh)")
  endif()
  # Every library is instrumented for coverage; only the targets get
  # libFuzzer's main (custodia_fuzz).
  target_compile_options(custodia_settings INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(custodia_settings INTERFACE -fsanitize=address,undefined)
endif()
if(CU_SANITIZE)
  target_compile_options(custodia_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(custodia_settings INTERFACE -fsanitize=address,undefined)
endif()
