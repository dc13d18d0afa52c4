# vault/merkle.cmake: the Merkle tree, proofs and signed checkpoints
# (vault/merkle.*, vault/checkpoint.*), kept in their own list while they are
# being built; included, optionally, from vault/CMakeLists.txt.
target_sources(custodia_vault PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/merkle.cc
  ${CMAKE_CURRENT_LIST_DIR}/checkpoint.cc)

# The tests call libsodium themselves (Ed25519 key pairs from published seeds).
custodia_test(merkle_test ${CMAKE_CURRENT_LIST_DIR}/merkle_test.cc
  LIBS custodia_vault PkgConfig::SODIUM)
custodia_test(checkpoint_test ${CMAKE_CURRENT_LIST_DIR}/checkpoint_test.cc
  LIBS custodia_vault PkgConfig::SODIUM)
