defmodule Nx.Defn.CompositeTest do
  use ExUnit.Case, async: true
  doctest Nx.Defn.Composite
  doctest Nx.Defn.Token
  doctest Nx.Defn.Tree
end
