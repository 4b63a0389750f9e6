defmodule Nx.ContainerTest do
  use ExUnit.Case, async: true

  doctest Nx.Container
  doctest Nx.LazyContainer

  alias Nx.ContainerFixtures.Layer

  test "derived containers traverse the container fields, keep kept ones and reset the rest" do
    layer = %Layer{weights: 1, bias: 2, activation: :tanh, cache: :filled}

    {result, acc} = Nx.Container.traverse(layer, [], fn x, acc -> {x * 10, [x | acc]} end)
    assert result == %Layer{weights: 10, bias: 20, activation: :tanh, cache: :default}
    assert acc == [2, 1]
    assert Nx.Container.reduce(layer, 0, &+/2) == 3
  end

  test "values that are not containers raise Protocol.UndefinedError" do
    assert_raise Protocol.UndefinedError, fn -> Nx.Container.traverse(:atom, 0, &{&1, &2}) end
  end

  test "lazy containers give templates and builders" do
    {_, builders} =
      Nx.LazyContainer.traverse(%{a: 1.5, b: {2}}, [], fn template, builder, acc ->
        assert template.data == %Nx.TemplateBackend{}
        {template, [builder | acc]}
      end)

    assert builders |> Enum.reverse() |> Enum.map(&Nx.to_number(&1.())) == [1.5, 2]
  end

  test "derived structs work in defn" do
    fun =
      Nx.Defn.jit(fn %Layer{weights: w, bias: b} = layer ->
        %{layer | weights: Nx.transpose(w), bias: b}
      end)

    result = fun.(%Layer{weights: Nx.iota({2, 3}), bias: Nx.tensor(1), activation: :tanh})
    assert %Layer{activation: :tanh} = result
    assert Nx.shape(result.weights) == {3, 2}
  end
end
