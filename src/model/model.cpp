#include <map>

#include "core/error.h"
#include "model/context.h"
#include "model/weights.h"
#include "quant/reference.h"

namespace tandem::model {

Model::Model(gguf::File file) : file_(std::move(file)) {}
Model::~Model() = default;

std::shared_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  return from_file(gguf::File::open(path), options);
}

std::shared_ptr<Model> Model::from_file(gguf::File file, const LoadOptions& options) {
  std::shared_ptr<Model> m(new Model(std::move(file)));
  m->hparams_ = HParams::from_gguf(m->file_);
  m->weights_ = std::make_unique<Weights>(Weights::bind(m->file_, m->hparams_));
  return m;
}

}  // namespace tandem::model
