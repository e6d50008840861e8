// TorchScript module surgery that tch does not expose: reading and replacing parameters and
// buffers by name (with another shape), and wrapping a module so that it reads only some input
// columns. Every function catches C++ exceptions and returns their message in `*err` (freed by
// stog_free_string); tensors cross as `torch::Tensor*`, the representation tch uses.

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/script.h>

#include <cstdlib>
#include <cstring>
#include <set>
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

using torch::jit::Node;
using torch::jit::Value;

// The attribute path (`layer1.0.conv1.weight`) of a value read by a chain of prim::GetAttr from
// `self`, or "" when it is not one.
std::string attr_path(Value* v, Value* self) {
  std::vector<std::string> parts;
  while (v->node()->kind() == c10::prim::GetAttr) {
    parts.push_back(v->node()->s(c10::attr::name));
    v = v->node()->input(0);
  }
  if (v != self || parts.empty()) return "";
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
  return out;
}

bool is_layer(Node* n) {
  auto k = n->kind();
  return k == c10::aten::conv1d || k == c10::aten::conv2d || k == c10::aten::conv3d ||
         k == c10::aten::_convolution || k == c10::aten::linear;
}

// Ops that keep each channel on its own: a gate commutes with them (or, for BatchNorm, its
// entries are cut with the channels).
bool is_channelwise(Node* n) {
  static const std::vector<std::string> names = {
      "aten::relu", "aten::relu_", "aten::leaky_relu", "aten::leaky_relu_", "aten::gelu",
      "aten::silu", "aten::silu_", "aten::hardtanh", "aten::hardtanh_", "aten::relu6",
      "aten::max_pool1d", "aten::max_pool2d", "aten::max_pool3d", "aten::avg_pool1d",
      "aten::avg_pool2d", "aten::avg_pool3d", "aten::adaptive_avg_pool1d",
      "aten::adaptive_avg_pool2d", "aten::adaptive_avg_pool3d", "aten::adaptive_max_pool2d",
      "aten::dropout", "aten::dropout_", "aten::feature_dropout", "aten::contiguous",
      "aten::clone", "aten::detach", "aten::batch_norm"};
  std::string k = n->kind().toQualString();
  return std::find(names.begin(), names.end(), k) != names.end();
}

// Channel-wise ops that commute with a gate in [0, 1] (f(g x) = g f(x)), so that the gate can move
// past them into the layer that reads its units. BatchNorm does not (it shifts a dropped
// channel's zero to a constant), nor do GELU or SiLU.
bool commutes(Node* n) {
  static const std::vector<std::string> names = {
      "aten::relu", "aten::relu_", "aten::leaky_relu", "aten::leaky_relu_", "aten::max_pool1d",
      "aten::max_pool2d", "aten::max_pool3d", "aten::avg_pool1d", "aten::avg_pool2d",
      "aten::avg_pool3d", "aten::adaptive_avg_pool1d", "aten::adaptive_avg_pool2d",
      "aten::adaptive_avg_pool3d", "aten::adaptive_max_pool2d", "aten::dropout",
      "aten::dropout_", "aten::feature_dropout", "aten::contiguous", "aten::clone",
      "aten::detach"};
  std::string k = n->kind().toQualString();
  return std::find(names.begin(), names.end(), k) != names.end();
}

// Ops after which the channels are the columns of a 2-D tensor (global pooling, then flatten or
// a mean over the spatial axes): a consumer Linear reads them in order. The export's check
// catches a flatten of more than one position per channel.
bool is_to_columns(Node* n) {
  std::string k = n->kind().toQualString();
  return k == "aten::flatten" || k == "aten::mean" || k == "aten::amax" || k == "aten::sum" ||
         k == "aten::view" || k == "aten::reshape" || k == "aten::squeeze";
}

// Walks back from `v` through channel-wise ops to the layer that writes it; appends a "site"
// line, then "producer W", "bias B" and "norm P" lines (P a BatchNorm's path) to `out`, or "none"
// when it reaches something else (a residual sum, the input).
void trace_back(Value* v, Value* self, std::string& out) {
  out += "site\n";
  while (true) {
    Node* n = v->node();
    if (is_layer(n)) {
      out += "producer " + attr_path(n->input(1), self) + "\n";
      auto bias = attr_path(n->input(2), self);
      if (!bias.empty()) out += "bias " + bias + "\n";
      return;
    }
    if (n->kind() == c10::aten::batch_norm) {
      auto w = attr_path(n->input(3), self);  // running_mean
      if (!w.empty()) out += "norm " + w.substr(0, w.rfind('.')) + "\n";
    }
    if (!is_channelwise(n) || n->inputs().empty()) {
      out += std::string("none ") + n->kind().toQualString() + "\n";
      return;
    }
    v = n->input(0);
  }
}

bool is_sum(Node* n) { return n->kind() == c10::aten::add || n->kind() == c10::aten::add_; }

// The values that carry gated units: `starts` (the products by one gate), what ops that commute
// with the gate make of them, and the sums whose two operands both carry them (a residual stream
// whose every write is multiplied by the same gate). A sum with an operand outside stays outside.
std::set<Value*> gated_values(const std::vector<Value*>& starts) {
  std::set<Value*> in(starts.begin(), starts.end());
  bool grew = true;
  while (grew) {
    grew = false;
    for (Value* v : std::vector<Value*>(in.begin(), in.end())) {
      for (const auto& use : v->uses()) {
        Node* n = use.user;
        bool follows = (commutes(n) || is_to_columns(n)) && use.offset == 0;
        follows |= is_sum(n) && in.count(n->input(0)) && in.count(n->input(1));
        if (follows && in.insert(n->output()).second) grew = true;
      }
    }
  }
  return in;
}

// Walks forward from `v` through the values of `gated` (ops that commute with the gate, and sums
// of gated values) to every layer that reads them; appends "carrier W" lines, or "blocked OP" for
// a use that is neither (a sum with an ungated operand, a BatchNorm). `seen` keeps a value that
// two paths reach from being walked twice.
void trace_forward(Value* v, Value* self, const std::set<Value*>& gated, std::set<Value*>& seen,
                   std::string& out) {
  if (!seen.insert(v).second) return;
  for (const auto& use : v->uses()) {
    Node* n = use.user;
    if (is_layer(n) && use.offset == 0) {
      out += "carrier " + attr_path(n->input(1), self) + "\n";
    } else if (n->kind() == c10::aten::size || n->kind() == c10::aten::dim) {
      // Reads the shape alone (as adaptive pooling does), not the units.
    } else if (n->outputs().size() == 1 && gated.count(n->output())) {
      trace_forward(n->output(), self, gated, seen, out);
    } else if (n->kind() == c10::prim::Return) {
      out += "blocked return\n";
    } else {
      out += std::string("blocked ") + n->kind().toQualString() + "\n";
    }
  }
}

// The values that gate `index` multiplies in `graph`: the other operand of each aten::mul whose
// operand comes (through view, reshape, unsqueeze or expand) from `gates[index]`.
std::vector<Node*> gate_muls(torch::jit::Graph& graph, int64_t index) {
  std::vector<Node*> muls;
  for (Node* n : graph.nodes()) {
    if (n->kind() != c10::aten::__getitem__) continue;
    auto i = torch::jit::toIValue(n->input(1));
    if (!i || !i->isInt() || i->toInt() != index) continue;
    std::vector<Value*> frontier = {n->output()};
    while (!frontier.empty()) {
      Value* v = frontier.back();
      frontier.pop_back();
      for (const auto& use : v->uses()) {
        std::string k = use.user->kind().toQualString();
        if (k == "aten::mul") {
          muls.push_back(use.user);
        } else if (k == "aten::view" || k == "aten::reshape" || k == "aten::unsqueeze" ||
                   k == "aten::expand" || k == "aten::to" || k == "aten::expand_as") {
          frontier.push_back(use.user->output());
        }
      }
    }
  }
  return muls;
}

}  // namespace

extern "C" {

void stog_free_string(char* s) { std::free(s); }

void* stog_module_load(const char* path, char** err) {
  try {
    auto module = new torch::jit::Module(torch::jit::load(path));
    // What is exported runs in evaluation mode (BatchNorm's running statistics, no dropout).
    module->eval();
    return module;
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

// The layers around a gate, found in the TorchScript graph of `method` (inlined):
// - `gate` >= 0: the gate vector `gates[gate]` of the gate protocol; back from what it multiplies
//   and forward from the product;
// - `gate` == -1: back from the method's return value (the stage before a gate);
// - `gate` == -2: forward from the method's first input (the stage or model after a gate).
// Returns lines "site" (one per write of the gated units, followed by its "producer W", "bias B",
// "norm P" or "none OP"), "carrier W" and "blocked OP".
char* stog_module_gate_links(void* m, const char* method, int64_t gate, char** err) {
  try {
    auto* module = static_cast<torch::jit::Module*>(m);
    auto graph = module->get_method(method).graph()->copy();
    torch::jit::Inline(*graph);
    // Folds the indices of unrolled loops over module lists (`gates[i]`).
    torch::jit::ConstantPropagation(graph);
    Value* self = graph->inputs()[0];
    std::string out;
    if (gate >= 0) {
      auto muls = gate_muls(*graph, gate);
      if (muls.empty()) throw std::runtime_error("no multiplication by this gate in " + std::string(method));
      auto reaches_gate = [&](Value* v) {
        while (true) {
          std::string k = v->node()->kind().toQualString();
          if (k == "aten::__getitem__") return true;
          if (k == "aten::view" || k == "aten::reshape" || k == "aten::unsqueeze" ||
              k == "aten::expand" || k == "aten::to" || k == "aten::expand_as")
            v = v->node()->input(0);
          else
            return false;
        }
      };
      // Every product by the gate is one write of its units (several on a residual stream).
      std::vector<Value*> products;
      for (Node* mul : muls) {
        // The operand that is not the gate: the one not reached from __getitem__.
        Value* a = mul->input(0);
        Value* b = mul->input(1);
        trace_back(reaches_gate(a) ? b : a, self, out);
        products.push_back(mul->output());
      }
      auto gated = gated_values(products);
      std::set<Value*> seen;
      for (Value* p : products) trace_forward(p, self, gated, seen, out);
    } else if (gate == -1) {
      trace_back(graph->outputs()[0], self, out);
    } else {
      Value* input = graph->inputs()[1];
      std::set<Value*> seen;
      trace_forward(input, self, gated_values({input}), seen, out);
    }
    return dup(out);
  } catch (const std::exception& e) {
    *err = dup(e.what());
    return nullptr;
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
