defmodule InspectTest.Bin do
  # A test-only backend holding the tensor binary.
  defstruct [:bin]
  def inspect(tensor, opts), do: Nx.Tensor.Format.data(tensor, tensor.data.bin, opts)
end

defmodule InspectTest.Template do
  # A test-only backend without data, like Nx.TemplateBackend.
  defstruct []
  def inspect(_tensor, _opts), do: "Nx.TemplateBackend"
end

defmodule InspectTest.Empty do
  # A test-only backend that renders nothing.
  defstruct []
  def inspect(_tensor, _opts), do: Inspect.Algebra.empty()
end

defmodule InspectTest.Capture do
  # A test-only backend that sends the tensor it is given.
  defstruct []

  def inspect(tensor, _opts) do
    send(self(), {:inspected, tensor})
    "data"
  end
end

defmodule Nx.InspectTest do
  use ExUnit.Case, async: true

  doctest Nx.Tensor.Format

  defp tensor(values, type, shape, opts \\ []) do
    names = opts[:names] || List.duplicate(nil, tuple_size(shape))

    %Nx.Tensor{
      data: %InspectTest.Bin{bin: Nx.Shared.encode_list(List.flatten(values), type)},
      type: type,
      shape: shape,
      names: names,
      vectorized_axes: opts[:vectorized_axes] || []
    }
  end

  defp iota(shape, type \\ {:s, 32}, opts \\ []) do
    vectorized_sizes = Keyword.values(opts[:vectorized_axes] || [])
    size = Enum.reduce(vectorized_sizes ++ Tuple.to_list(shape), 1, &*/2)
    tensor(Enum.to_list(0..(size - 1)//1), type, shape, opts)
  end

  defp negative_zero do
    <<x::float-64>> = <<1::1, 0::63>>
    x
  end

  describe "layout" do
    test "scalars" do
      assert inspect(tensor([0], {:s, 32}, {})) == """
             #Nx.Tensor<
               s32
               0
             >\
             """

      assert inspect(tensor([1.0], {:f, 32}, {})) == """
             #Nx.Tensor<
               f32
               1.0
             >\
             """

      assert inspect(tensor([-1], {:s, 32}, {})) == """
             #Nx.Tensor<
               s32
               -1
             >\
             """
    end

    test "vectors" do
      assert inspect(tensor([1, 2, 3], {:s, 32}, {3})) == """
             #Nx.Tensor<
               s32[3]
               [1, 2, 3]
             >\
             """

      assert inspect(tensor([1.2, 2.3, 3.4, 4.5], {:f, 32}, {4})) == """
             #Nx.Tensor<
               f32[4]
               [1.2, 2.3, 3.4, 4.5]
             >\
             """
    end

    test "matrices" do
      assert inspect(tensor([[1, 2], [3, 4]], {:s, 32}, {2, 2})) == """
             #Nx.Tensor<
               s32[2][2]
               [
                 [1, 2],
                 [3, 4]
               ]
             >\
             """

      assert inspect(tensor([[1], [2], [3], [4]], {:s, 32}, {4, 1}, names: [:x, :y])) == """
             #Nx.Tensor<
               s32[x: 4][y: 1]
               [
                 [1],
                 [2],
                 [3],
                 [4]
               ]
             >\
             """
    end

    test "three and more dimensions" do
      assert inspect(iota({2, 3, 4})) == """
             #Nx.Tensor<
               s32[2][3][4]
               [
                 [
                   [0, 1, 2, 3],
                   [4, 5, 6, 7],
                   [8, 9, 10, 11]
                 ],
                 [
                   [12, 13, 14, 15],
                   [16, 17, 18, 19],
                   [20, 21, 22, 23]
                 ]
               ]
             >\
             """

      assert inspect(iota({2, 2, 2, 2})) == """
             #Nx.Tensor<
               s32[2][2][2][2]
               [
                 [
                   [
                     [0, 1],
                     [2, 3]
                   ],
                   [
                     [4, 5],
                     [6, 7]
                   ]
                 ],
                 [
                   [
                     [8, 9],
                     [10, 11]
                   ],
                   [
                     [12, 13],
                     [14, 15]
                   ]
                 ]
               ]
             >\
             """

      assert inspect(tensor([[[[[1]]]]], {:s, 32}, {1, 1, 1, 1, 1})) == """
             #Nx.Tensor<
               s32[1][1][1][1][1]
               [
                 [
                   [
                     [
                       [1]
                     ]
                   ]
                 ]
               ]
             >\
             """
    end

    test "names" do
      assert inspect(iota({2, 3}, {:s, 32}, names: [:x, :y])) == """
             #Nx.Tensor<
               s32[x: 2][y: 3]
               [
                 [0, 1, 2],
                 [3, 4, 5]
               ]
             >\
             """

      t = tensor([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]], {:s, 32}, {1, 3, 3})

      assert inspect(%{t | names: [:batch, nil, nil]}) == """
             #Nx.Tensor<
               s32[batch: 1][3][3]
               [
                 [
                   [1, 2, 3],
                   [4, 5, 6],
                   [7, 8, 9]
                 ]
               ]
             >\
             """

      assert inspect(%{t | names: [:batch, :height, :width]}) =~
               "s32[batch: 1][height: 3][width: 3]\n"
    end

    test "long rows are never wrapped" do
      row = Enum.to_list(1_000_000..1_000_029)

      assert inspect(tensor([row, row], {:s, 32}, {2, 30}), limit: :infinity) ==
               "#Nx.Tensor<\n  s32[2][30]\n  [\n" <>
                 "    [#{Enum.join(row, ", ")}],\n" <>
                 "    [#{Enum.join(row, ", ")}]\n" <>
                 "  ]\n>"

      assert inspect(tensor(row, {:s, 32}, {30}), width: 20) ==
               "#Nx.Tensor<\n  s32[30]\n  [#{Enum.join(row, ", ")}]\n>"
    end

    test "empty dimensions" do
      assert inspect(tensor([], {:f, 32}, {0})) == """
             #Nx.Tensor<
               f32[0]
               []
             >\
             """

      assert inspect(tensor([], {:s, 8}, {2, 0})) == """
             #Nx.Tensor<
               s8[2][0]
               [
                 [],
                 []
               ]
             >\
             """
    end
  end

  describe "vectorized tensors" do
    test "show the vectorized axes and the devectorized data" do
      assert inspect(tensor([1, 2], {:s, 32}, {}, vectorized_axes: [x: 2])) == """
             #Nx.Tensor<
               vectorized[x: 2]
               s32
               [1, 2]
             >\
             """

      assert inspect(iota({3}, {:s, 32}, vectorized_axes: [first: 2])) == """
             #Nx.Tensor<
               vectorized[first: 2]
               s32[3]
               [
                 [0, 1, 2],
                 [3, 4, 5]
               ]
             >\
             """

      assert inspect(iota({}, {:s, 32}, vectorized_axes: [first: 2, second: 3])) == """
             #Nx.Tensor<
               vectorized[first: 2][second: 3]
               s32
               [
                 [0, 1, 2],
                 [3, 4, 5]
               ]
             >\
             """

      values = [[[[0, 0, 0], [1, 1, 1]], [[0, 0, 0], [1, 1, 1]]]]

      assert inspect(tensor(values, {:s, 32}, {2, 3}, vectorized_axes: [x: 1, y: 2])) == """
             #Nx.Tensor<
               vectorized[x: 1][y: 2]
               s32[2][3]
               [
                 [
                   [
                     [0, 0, 0],
                     [1, 1, 1]
                   ],
                   [
                     [0, 0, 0],
                     [1, 1, 1]
                   ]
                 ]
               ]
             >\
             """
    end

    test "keep inner names" do
      t = tensor([0, 1, 0, 0, 2, 0, 0, 3, 0], {:s, 32}, {3}, vectorized_axes: [x: 3])

      assert inspect(%{t | names: [:data]}) == """
             #Nx.Tensor<
               vectorized[x: 3]
               s32[data: 3]
               [
                 [0, 1, 0],
                 [0, 2, 0],
                 [0, 3, 0]
               ]
             >\
             """
    end

    test "pass the devectorized tensor to the backend" do
      t = %Nx.Tensor{
        data: %InspectTest.Capture{},
        type: {:f, 32},
        shape: {3},
        names: [:a],
        vectorized_axes: [x: 2, y: 1]
      }

      assert inspect(t) == "#Nx.Tensor<\n  vectorized[x: 2][y: 1]\n  f32[a: 3]\n  data\n>"
      assert_received {:inspected, devectorized}
      assert devectorized.shape == {2, 1, 3}
      assert devectorized.names == [:x, :y, :a]
      assert devectorized.vectorized_axes == []
    end
  end

  describe "limit" do
    test "defaults to 50 elements" do
      assert inspect(iota({100})) ==
               "#Nx.Tensor<\n  s32[100]\n  [#{Enum.join(0..49, ", ")}, ...]\n>"
    end

    test "is counted across rows" do
      assert inspect(iota({10}), limit: 3) == """
             #Nx.Tensor<
               s32[10]
               [0, 1, 2, ...]
             >\
             """

      assert inspect(iota({3, 3}), limit: 4) == """
             #Nx.Tensor<
               s32[3][3]
               [
                 [0, 1, 2],
                 [3, ...],
                 ...
               ]
             >\
             """

      assert inspect(iota({3, 3}), limit: 6) == """
             #Nx.Tensor<
               s32[3][3]
               [
                 [0, 1, 2],
                 [3, 4, 5],
                 ...
               ]
             >\
             """

      assert inspect(iota({2, 2, 2}), limit: 1) == """
             #Nx.Tensor<
               s32[2][2][2]
               [
                 [
                   [0, ...],
                   ...
                 ],
                 ...
               ]
             >\
             """
    end

    test "does not add ... when everything fits" do
      assert inspect(iota({3}), limit: 3) == "#Nx.Tensor<\n  s32[3]\n  [0, 1, 2]\n>"
      assert inspect(iota({}), limit: 1) == "#Nx.Tensor<\n  s32\n  0\n>"
      assert inspect(iota({60}), limit: :infinity) =~ "58, 59]"
    end

    test "only reads the elements it shows" do
      truncated = %{iota({10}) | data: %InspectTest.Bin{bin: <<0::32-native, 1::32-native>>}}
      assert inspect(truncated, limit: 2) =~ "[0, 1, ...]"
    end

    test "applies to vectorized tensors" do
      t = iota({3}, {:s, 32}, vectorized_axes: [x: 3])

      assert inspect(t, limit: 5) == """
             #Nx.Tensor<
               vectorized[x: 3]
               s32[3]
               [
                 [0, 1, 2],
                 [3, 4, ...],
                 ...
               ]
             >\
             """
    end
  end

  describe "types" do
    test "integers" do
      assert inspect(tensor([255, 0, 0], {:u, 8}, {3})) =~ "u8[3]\n  [255, 0, 0]\n"

      assert inspect(tensor([2_147_483_647, 0, -2_147_483_648], {:s, 32}, {3})) =~
               "s32[3]\n  [2147483647, 0, -2147483648]\n"

      assert inspect(tensor([18_446_744_073_709_551_615, 0], {:u, 64}, {2})) =~
               "u64[2]\n  [18446744073709551615, 0]\n"

      assert inspect(tensor([-9_223_372_036_854_775_808], {:s, 64}, {1})) =~
               "s64[1]\n  [-9223372036854775808]\n"

      assert inspect(tensor([0, -1, 1, -2], {:s, 8}, {4})) =~ "s8[4]\n  [0, -1, 1, -2]\n"
      assert inspect(tensor([0, 255, 1, 254], {:u, 8}, {4})) =~ "u8[4]\n  [0, 255, 1, 254]\n"
      assert inspect(tensor([1, 0], {:u, 8}, {2})) =~ "u8[2]\n  [1, 0]\n"
    end

    test "sub-byte integers" do
      assert inspect(tensor([-8, 7, -1, 0, 3], {:s, 4}, {5})) =~ "s4[5]\n  [-8, 7, -1, 0, 3]\n"
      assert inspect(tensor([15, 0, 9], {:u, 4}, {3})) =~ "u4[3]\n  [15, 0, 9]\n"
      assert inspect(tensor([-2, 1, -1], {:s, 2}, {3})) =~ "s2[3]\n  [-2, 1, -1]\n"

      assert inspect(tensor([[3, 2, 1], [0, 1, 2]], {:u, 2}, {2, 3})) == """
             #Nx.Tensor<
               u2[2][3]
               [
                 [3, 2, 1],
                 [0, 1, 2]
               ]
             >\
             """
    end

    test "f32" do
      assert inspect(tensor([1.0, 0.5, 1 / 3], {:f, 32}, {3}, names: [:data])) == """
             #Nx.Tensor<
               f32[data: 3]
               [1.0, 0.5, 0.33333334]
             >\
             """

      assert inspect(tensor([[0.1, 0.05], [0.2, 0.1]], {:f, 32}, {2, 2}, names: [:x, :y])) ==
               """
               #Nx.Tensor<
                 f32[x: 2][y: 2]
                 [
                   [0.1, 0.05],
                   [0.2, 0.1]
                 ]
               >\
               """

      assert inspect(tensor([:neg_infinity, :nan, :infinity], {:f, 32}, {3})) =~
               "f32[3]\n  [-Inf, NaN, Inf]\n"

      assert inspect(tensor([-:math.pi(), negative_zero()], {:f, 32}, {2})) =~
               "[-3.1415927, -0.0]"

      assert inspect(tensor([1.0e-128], {:f, 32}, {})) == "#Nx.Tensor<\n  f32\n  0.0\n>"
      assert inspect(tensor([1.0e10, 1.5e-7], {:f, 32}, {2})) =~ "[1e10, 1.5e-7]"
    end

    test "f64" do
      values = [
        [0.03205860328008499, 0.08714431874203257],
        [0.23688281808991013, 0.6439142598879722]
      ]

      assert inspect(tensor(values, {:f, 64}, {2, 2})) == """
             #Nx.Tensor<
               f64[2][2]
               [
                 [0.03205860328008499, 0.08714431874203257],
                 [0.23688281808991013, 0.6439142598879722]
               ]
             >\
             """

      assert inspect(tensor([1.0e-128], {:f, 64}, {})) == "#Nx.Tensor<\n  f64\n  1.0e-128\n>"
      assert inspect(tensor([12.3], {:f, 64}, {1})) =~ "f64[1]\n  [12.3]\n"

      assert inspect(tensor([[-:math.pi(), -0.0], [:math.pi(), 0.0]], {:f, 64}, {2, 2})) =~
               "[3.141592653589793, 0.0]"

      assert inspect(tensor([:infinity, :nan], {:f, 64}, {2})) =~ "f64[2]\n  [Inf, NaN]\n"
      assert inspect(tensor([1.0e10], {:f, 64}, {1})) =~ "[1.0e10]"
    end

    test "f16, bf16 and f8" do
      assert inspect(tensor([1, 2, 3], {:f, 16}, {3})) =~ "f16[3]\n  [1.0, 2.0, 3.0]\n"
      assert inspect(tensor([1, 2, 3], {:bf, 16}, {3})) =~ "bf16[3]\n  [1.0, 2.0, 3.0]\n"
      assert inspect(tensor([1, 2, 3], {:f, 8}, {3})) =~ "f8[3]\n  [1.0, 2.0, 3.0]\n"

      assert inspect(tensor([1, 2, 3], {:f8_e4m3fn, 8}, {3})) =~
               "f8_e4m3fn[3]\n  [1.0, 2.0, 3.0]\n"

      assert inspect(tensor([[0.1, 0.2, 0.3, 0.4]], {:f, 16}, {1, 4})) == """
             #Nx.Tensor<
               f16[1][4]
               [
                 [0.1, 0.2, 0.3, 0.4]
               ]
             >\
             """

      assert inspect(tensor([:infinity, :nan], {:f, 16}, {2})) =~ "f16[2]\n  [Inf, NaN]\n"
      assert inspect(tensor([0.0, 1.0, 2.0], {:bf, 16}, {3})) =~ "[0.0, 1.0, 2.0]"
      assert inspect(tensor([0.1, 65504.0], {:bf, 16}, {2})) =~ "[0.0996, 6.53e4]"
      assert inspect(tensor([65504.0, 1.0e-7], {:f, 16}, {2})) =~ "[6.55e4, 1e-7]"
      assert inspect(tensor([1.0], {:bf, 16}, {})) == "#Nx.Tensor<\n  bf16\n  1.0\n>"
      assert inspect(tensor([57344.0, :neg_infinity], {:f, 8}, {2})) =~ "[6e4, -Inf]"

      assert inspect(tensor([:infinity], {:f8_e4m3fn, 8}, {1})) == """
             #Nx.Tensor<
               f8_e4m3fn[1]
               [450.0]
             >\
             """

      assert inspect(tensor([:nan], {:f8_e4m3fn, 8}, {1})) == """
             #Nx.Tensor<
               f8_e4m3fn[1]
               [NaN]
             >\
             """
    end

    test "complex" do
      assert inspect(tensor([Complex.new(1, -1)], {:c, 64}, {})) == """
             #Nx.Tensor<
               c64
               1.0-1.0i
             >\
             """

      assert inspect(tensor([Complex.new(1, 2), Complex.new(2, -4)], {:c, 64}, {2})) =~
               "c64[2]\n  [1.0+2.0i, 2.0-4.0i]\n"

      assert inspect(tensor([1, -2], {:c, 64}, {2})) =~ "c64[2]\n  [1.0+0.0i, -2.0+0.0i]\n"

      assert inspect(tensor([Complex.new(1, negative_zero())], {:c, 64}, {})) =~
               "c64\n  1.0-0.0i\n"

      values = [Complex.new(0, 1), Complex.new(:infinity, 2), Complex.new(:nan, :neg_infinity)]

      assert inspect(tensor([values], {:c, 64}, {1, 3})) == """
             #Nx.Tensor<
               c64[1][3]
               [
                 [0.0+1.0i, Inf+2.0i, NaN-Infi]
               ]
             >\
             """

      assert inspect(tensor([Complex.new(0.5, 0.25), Complex.new(0.25, -0.25)], {:c, 64}, {2})) =~
               "[0.5+0.25i, 0.25-0.25i]"

      assert inspect(tensor([Complex.new(1 / 3, :nan)], {:c, 128}, {1})) =~
               "c128[1]\n  [0.3333333333333333+NaNi]\n"

      assert inspect(tensor([Complex.new(1 / 3, 0.1)], {:c, 64}, {1})) =~
               "[0.33333334+0.1i]"
    end
  end

  describe "backends" do
    test "show what the backend returns" do
      t = %Nx.Tensor{
        data: %InspectTest.Template{},
        type: {:f, 32},
        shape: {2, 3},
        names: [nil, nil]
      }

      assert inspect(t) == """
             #Nx.Tensor<
               f32[2][3]
               Nx.TemplateBackend
             >\
             """

      assert inspect(%{t | names: [:rows, :columns]}) == """
             #Nx.Tensor<
               f32[rows: 2][columns: 3]
               Nx.TemplateBackend
             >\
             """
    end

    test "skip the data line when the backend renders nothing" do
      t = %Nx.Tensor{data: %InspectTest.Empty{}, type: {:s, 32}, shape: {}, names: []}
      assert inspect(t) == "#Nx.Tensor<\n  s32\n>"
    end
  end

  test "colors" do
    opts = [syntax_colors: [list: :red, atom: :blue, map: :green, reset: :default_color]]
    red = IO.ANSI.red()
    reset = IO.ANSI.default_color()

    assert inspect(tensor([1, 2], {:u, 8}, {2}), opts) ==
             "#{IO.ANSI.green()}#Nx.Tensor<#{reset}\n" <>
               "  #{IO.ANSI.blue()}u8#{reset}#{red}[#{reset}2#{red}]#{reset}\n" <>
               "  #{red}[#{reset}1#{red},#{reset} 2#{red}]#{reset}\n" <>
               "#{IO.ANSI.green()}>#{reset}"
  end
end
