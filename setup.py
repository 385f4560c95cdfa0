"""Build of sparktorch7: one Cython extension against the system LuaJIT (pkg-config luajit)."""
import os
import shlex
import subprocess
import sys

from setuptools import Extension, find_packages, setup


def luajit_flags():
    """Compiler and linker flags of the system LuaJIT, or stop with one clear line."""
    try:
        cflags = subprocess.check_output(["pkg-config", "--cflags", "luajit"], text=True, stderr=subprocess.DEVNULL)
        libs = subprocess.check_output(["pkg-config", "--libs", "luajit"], text=True, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.CalledProcessError):
        sys.exit("sparktorch7: LuaJIT 2.1 not found by `pkg-config luajit`; "
                 "install the Debian/Ubuntu package libluajit-5.1-dev (and pkg-config)")
    include_dirs, library_dirs, libraries = [], [], []
    for flag in shlex.split(cflags):
        if flag.startswith("-I"):
            include_dirs.append(flag[2:])
    for flag in shlex.split(libs):
        if flag.startswith("-L"):
            library_dirs.append(flag[2:])
        elif flag.startswith("-l"):
            libraries.append(flag[2:])
    return include_dirs, library_dirs, libraries


def extensions():
    import numpy
    from Cython.Build import cythonize

    include_dirs, library_dirs, libraries = luajit_flags()
    ext = Extension(
        "sparktorch7._lua",
        ["sparktorch7/_lua.pyx"],
        include_dirs=include_dirs + [numpy.get_include()],
        library_dirs=library_dirs,
        libraries=libraries,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
        extra_compile_args=["-O2"],
    )
    return cythonize(
        [ext],
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "embedsignature": True},
        quiet=True,
    )


lua_files = []
for root, _dirs, files in os.walk(os.path.join("sparktorch7", "lua")):
    for name in files:
        if name.endswith(".lua"):
            lua_files.append(os.path.relpath(os.path.join(root, name), "sparktorch7"))

setup(
    name="sparktorch7",
    version="0.1.0",
    description="Run Torch7 (.t7) models and Lua scoring code over big data with PySpark",
    packages=find_packages(include=["sparktorch7", "sparktorch7.*"]),
    package_data={"sparktorch7": lua_files + ["*.pxd", "*.pyx", "*.pxi"]},
    ext_modules=extensions(),
    python_requires=">=3.10",
    install_requires=["numpy>=2", "pyarrow>=15", "pandas<3"],
    extras_require={"spark": ["pyspark>=4.1"], "connect": ["pyspark[connect]>=4.1"]},
    zip_safe=False,
)
