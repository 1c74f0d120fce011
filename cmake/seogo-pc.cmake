# seogo-pc.cmake - run by `cmake --install`: writes seogo.pc for the prefix actually installed
# to (which `--prefix` may change after configuring) and installs it.
# Expects SEOGO_PC_IN, SEOGO_PC_OUT, SEOGO_PC_VERSION, SEOGO_LIBDIR and SEOGO_INCLUDEDIR.
set(SEOGO_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")

function(seogo_pc_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
seogo_pc_dir(SEOGO_PC_LIBDIR "${SEOGO_LIBDIR}")
seogo_pc_dir(SEOGO_PC_INCLUDEDIR "${SEOGO_INCLUDEDIR}")

configure_file("${SEOGO_PC_IN}" "${SEOGO_PC_OUT}" @ONLY)
if(IS_ABSOLUTE "${SEOGO_LIBDIR}")
  set(seogo_pc_dest "${SEOGO_LIBDIR}/pkgconfig")
else()
  set(seogo_pc_dest "${CMAKE_INSTALL_PREFIX}/${SEOGO_LIBDIR}/pkgconfig")
endif()
file(INSTALL DESTINATION "${seogo_pc_dest}" TYPE FILE FILES "${SEOGO_PC_OUT}")
