defmodule Nx.ContainerFixtures.Layer do
  # A struct deriving Nx.Container, compiled with the test support files so
  # that the consolidated protocol includes it.
  @moduledoc false
  @derive {Nx.Container, containers: [:weights, :bias], keep: [:activation]}
  defstruct weights: nil, bias: nil, activation: :relu, cache: :default
end
