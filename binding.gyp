{
  "targets": [
    {
      "target_name": "cream_native",
      "sources": ["<!@(ls -1 native/src/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions", "-ffp-contract=fast", "-fno-math-errno", "-Wall", "-Wno-unused-function"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
