// TorchScript module surgery that tch does not expose: reading and replacing parameters and
// buffers by name (with another shape), and wrapping a module so that it reads only some input
// columns. Every function catches C++ exceptions and returns their message in `*err` (freed by
// stog_free_string); tensors cross as `torch::Tensor*`, the representation tch uses.

#include <torch/script.h>

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

namespace {

char* dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// The module that owns the attribute `name` (a dotted path) and the attribute's own name.
std::pair<torch::jit::Module, std::string> owner(torch::jit::Module m, const std::string& name) {
  std::stringstream parts(name);
  std::string part;
  std::vector<std::string> path;
  while (std::getline(parts, part, '.')) path.push_back(part);
  if (path.empty()) throw std::runtime_error("empty attribute name");
  for (size_t i = 0; i + 1 < path.size(); ++i) m = m.attr(path[i]).toModule();
  return {m, path.back()};
}

}  // namespace

extern "C" {

void stog_free_string(char* s) { std::free(s); }

void* stog_module_load(const char* path, char** err) {
  try {
    return new torch::jit::Module(torch::jit::load(path));
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return nullptr;
  }
}

void stog_module_free(void* m) { delete static_cast<torch::jit::Module*>(m); }

int stog_module_save(void* m, const char* path, char** err) {
  try {
    static_cast<torch::jit::Module*>(m)->save(path);
    return 0;
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return 1;
  }
}

// The names of every parameter (`buffers` = 0) or buffer (1), submodules included, in the
// module's order, one per line.
char* stog_module_names(void* m, int buffers, char** err) {
  try {
    auto* module = static_cast<torch::jit::Module*>(m);
    std::string out;
    if (buffers) {
      for (const auto& b : module->named_buffers(true)) out += b.name + "\n";
    } else {
      for (const auto& p : module->named_parameters(true)) out += p.name + "\n";
    }
    return dup(out);
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return nullptr;
  }
}

// The tensor held by the attribute `name` (a parameter or buffer), as a new `torch::Tensor*`.
void* stog_module_get(void* m, const char* name, char** err) {
  try {
    auto [module, attr] = owner(*static_cast<torch::jit::Module*>(m), name);
    return new torch::Tensor(module.attr(attr).toTensor());
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return nullptr;
  }
}

// Replaces the tensor of the attribute `name` by `value` (any shape); a parameter stays a
// parameter.
int stog_module_set(void* m, const char* name, void* value, char** err) {
  try {
    auto [module, attr] = owner(*static_cast<torch::jit::Module*>(m), name);
    const auto& v = *static_cast<torch::Tensor*>(value);
    module.setattr(attr, v.detach().requires_grad_(module.attr(attr).toTensor().requires_grad()));
    return 0;
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return 1;
  }
}

// A new module whose forward is `model(x.index_select(1, keep))`: a model pruned of its unused
// inputs that still takes the full input rows (or channels, on axis 1).
void* stog_module_select_inputs(void* m, void* keep, char** err) {
  try {
    torch::jit::Module wrapper("__torch__.stog.SelectInputs");
    wrapper.register_module("model", *static_cast<torch::jit::Module*>(m));
    wrapper.register_buffer("keep", *static_cast<torch::Tensor*>(keep));
    wrapper.define(R"(
def forward(self, x):
    return self.model.forward(x.index_select(1, self.keep))
)");
    return new torch::jit::Module(wrapper);
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return nullptr;
  }
}

}  // extern "C"
