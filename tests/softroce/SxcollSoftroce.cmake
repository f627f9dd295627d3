# sxcoll_add_softroce_test(): register a ctest test that runs a command inside the
# Soft-RoCE VM (tests/softroce/vm-run.sh): two rails, rxe0 on 192.0.2.1 and rxe1 on
# 198.51.100.1, GID index 1 = RoCE v2 GID of the rail's IPv4 address.
#
#   sxcoll_add_softroce_test(NAME
#     COMMAND cmd [args...]      # run in the VM with bash; BINS are on PATH by basename
#     [BINS target|file ...]     # build targets ($<TARGET_FILE:...>) or files (scripts)
#     [ENV NAME=VALUE ...]       # environment for COMMAND inside the VM
#     [VM_TIMEOUT seconds]       # the VM is killed after this long (default 600)
#     [MEMORY mib]               # VM memory (default 2048)
#     [LABELS label ...])        # added to the label "softroce"
#
# Every test gets the label "softroce" (ctest -L softroce / -LE softroce), requires the
# fixture "softroce_vm" (a one-time host preparation: packages, kernel, base initramfs, so
# that download time never counts against a test's timeout), and holds the resource lock
# "softroce_vm": under TCG one VM already keeps both cores of a CI machine busy.
# The console log and whatever the command writes to $SXCOLL_VM_OUT (/out in the VM) land
# in ${CMAKE_CURRENT_BINARY_DIR}/softroce-out/NAME/.
#
# Include this file from any CMakeLists.txt (it guards itself); tests/softroce/ does.
include_guard(GLOBAL)

set(SXCOLL_SOFTROCE_DIR "${CMAKE_CURRENT_LIST_DIR}" CACHE INTERNAL "tests/softroce source dir")
set(SXCOLL_SOFTROCE_CACHE "" CACHE PATH
    "Cache for the Soft-RoCE VM kernel and initramfs (empty: vm-run.sh's default, ~/.cache/sxcoll-softroce)")

function(_sxcoll_softroce_common_args out_var)
  set(args bash "${SXCOLL_SOFTROCE_DIR}/vm-run.sh")
  if(SXCOLL_SOFTROCE_CACHE)
    list(APPEND args --workdir "${SXCOLL_SOFTROCE_CACHE}")
  endif()
  set(${out_var} "${args}" PARENT_SCOPE)
endfunction()

# The fixture: registered once, by whoever calls first.
function(_sxcoll_softroce_fixture)
  get_property(done GLOBAL PROPERTY SXCOLL_SOFTROCE_FIXTURE_ADDED)
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY SXCOLL_SOFTROCE_FIXTURE_ADDED TRUE)
  _sxcoll_softroce_common_args(vm)
  add_test(NAME softroce_prepare COMMAND ${vm} --prepare)
  # Cold: apt-get install of qemu & co. plus the ~70 MB kernel .deb.
  set_tests_properties(softroce_prepare PROPERTIES
    LABELS softroce
    FIXTURES_SETUP softroce_vm
    RESOURCE_LOCK softroce_vm
    TIMEOUT 1200)
endfunction()

function(sxcoll_add_softroce_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "VM_TIMEOUT;MEMORY" "COMMAND;BINS;ENV;LABELS")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "sxcoll_add_softroce_test(${name}): unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_COMMAND)
    message(FATAL_ERROR "sxcoll_add_softroce_test(${name}): COMMAND is required")
  endif()
  if(NOT arg_VM_TIMEOUT)
    set(arg_VM_TIMEOUT 600)
  endif()

  _sxcoll_softroce_fixture()
  _sxcoll_softroce_common_args(vm)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/softroce-out/${name}")
  list(APPEND vm --timeout ${arg_VM_TIMEOUT} --out "${out_dir}")
  if(arg_MEMORY)
    list(APPEND vm --memory ${arg_MEMORY})
  endif()
  foreach(bin IN LISTS arg_BINS)
    if(TARGET ${bin})
      list(APPEND vm --bin "$<TARGET_FILE:${bin}>")
    else()
      cmake_path(ABSOLUTE_PATH bin BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}")
      list(APPEND vm --bin "${bin}")
    endif()
  endforeach()
  foreach(env IN LISTS arg_ENV)
    list(APPEND vm --env "${env}")
  endforeach()

  add_test(NAME ${name} COMMAND ${vm} -- ${arg_COMMAND})
  # ctest's own deadline stays above the VM's so that vm-run.sh reports the timeout (124)
  # itself, with the console, instead of being killed silently.
  math(EXPR ctest_timeout "${arg_VM_TIMEOUT} + 120")
  set_tests_properties(${name} PROPERTIES
    LABELS "softroce;${arg_LABELS}"
    FIXTURES_REQUIRED softroce_vm
    RESOURCE_LOCK softroce_vm
    PROCESSORS 2
    TIMEOUT ${ctest_timeout})
endfunction()
