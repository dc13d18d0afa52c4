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
if(CU_SANITIZE)
  target_compile_options(custodia_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(custodia_settings INTERFACE -fsanitize=address,undefined)
endif()
