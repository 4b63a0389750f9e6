defmodule Nx.Constants do
  @moduledoc """
  Common constants as scalar tensors.

  Each function takes the type (defaulting to `{:f, 32}`, or `{:c, 64}`
  for `i/2`) and options:

    * `:backend` - the backend to create the tensor on
  """

  defp scalar(binary, type, opts) do
    opts = Keyword.validate!(opts, [:backend])
    binary |> Nx.from_binary(type, opts) |> Nx.reshape({})
  end

  defp floating!(type, fun) do
    type = Nx.Type.normalize!(type)

    if Nx.Type.integer?(type) do
      raise ArgumentError, "only floating types are supported by #{fun}, got: #{inspect(type)}"
    end

    type
  end

  @doc """
  Not a number, in a floating type.

  ## Examples

      iex> Nx.Constants.nan()
      #Nx.Tensor<
        f32
        NaN
      >

      iex> Nx.Constants.nan({:bf, 16})
      #Nx.Tensor<
        bf16
        NaN
      >
  """
  @spec nan(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def nan(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "nan/2")
    scalar(Nx.Type.nan_binary(type), type, opts)
  end

  @doc """
  Positive infinity, in a floating type.

  ## Examples

      iex> Nx.Constants.infinity({:f, 64})
      #Nx.Tensor<
        f64
        Inf
      >
  """
  @spec infinity(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def infinity(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "infinity/2")
    scalar(Nx.Type.infinity_binary(type), type, opts)
  end

  @doc """
  Negative infinity, in a floating type.

  ## Examples

      iex> Nx.Constants.neg_infinity()
      #Nx.Tensor<
        f32
        -Inf
      >
  """
  @spec neg_infinity(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def neg_infinity(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "neg_infinity/2")
    scalar(Nx.Type.neg_infinity_binary(type), type, opts)
  end

  @doc """
  The largest finite value of a type.

  ## Examples

      iex> Nx.Constants.max_finite({:u, 8})
      #Nx.Tensor<
        u8
        255
      >

      iex> Nx.Constants.max_finite({:f, 16})
      #Nx.Tensor<
        f16
        6.55e4
      >
  """
  @spec max_finite(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def max_finite(type \\ {:f, 32}, opts \\ []) do
    type = Nx.Type.normalize!(type)
    scalar(Nx.Type.max_finite_binary(type), type, opts)
  end

  @doc """
  The smallest (most negative) finite value of a type.

  ## Examples

      iex> Nx.Constants.min_finite({:s, 8})
      #Nx.Tensor<
        s8
        -128
      >
  """
  @spec min_finite(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def min_finite(type \\ {:f, 32}, opts \\ []) do
    type = Nx.Type.normalize!(type)
    scalar(Nx.Type.min_finite_binary(type), type, opts)
  end

  @doc """
  The largest value of a type: infinity for floats, the maximum for
  integers.

  ## Examples

      iex> Nx.Constants.max({:s, 16})
      #Nx.Tensor<
        s16
        32767
      >

      iex> Nx.Constants.max()
      #Nx.Tensor<
        f32
        Inf
      >
  """
  @spec max(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def max(type \\ {:f, 32}, opts \\ []) do
    type = Nx.Type.normalize!(type)
    scalar(Nx.Type.max_binary(type), type, opts)
  end

  @doc """
  The smallest value of a type: negative infinity for floats, the minimum
  for integers.

  ## Examples

      iex> Nx.Constants.min({:u, 32})
      #Nx.Tensor<
        u32
        0
      >
  """
  @spec min(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def min(type \\ {:f, 32}, opts \\ []) do
    type = Nx.Type.normalize!(type)
    scalar(Nx.Type.min_binary(type), type, opts)
  end

  @doc """
  The smallest positive normal number of a floating type.

  ## Examples

      iex> Nx.Constants.smallest_positive_normal({:f, 64})
      #Nx.Tensor<
        f64
        2.2250738585072014e-308
      >
  """
  @spec smallest_positive_normal(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def smallest_positive_normal(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "smallest_positive_normal/2")
    scalar(Nx.Type.smallest_positive_normal_binary(type), type, opts)
  end

  @doc """
  Machine epsilon of a floating type: the gap between 1.0 and the next
  representable number.

  ## Examples

      iex> Nx.Constants.epsilon({:f, 64})
      #Nx.Tensor<
        f64
        2.220446049250313e-16
      >
  """
  @spec epsilon(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def epsilon(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "epsilon/2")
    scalar(Nx.Type.epsilon_binary(type), type, opts)
  end

  @doc """
  π, in a floating type.

  ## Examples

      iex> Nx.Constants.pi({:f, 64})
      #Nx.Tensor<
        f64
        3.141592653589793
      >
  """
  @spec pi(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def pi(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "pi/2")
    scalar(Nx.Type.pi_binary(type), type, opts)
  end

  @doc """
  Euler's number e, in a floating type.

  ## Examples

      iex> Nx.Constants.e({:f, 64})
      #Nx.Tensor<
        f64
        2.718281828459045
      >
  """
  @spec e(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def e(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "e/2")
    scalar(Nx.Type.e_binary(type), type, opts)
  end

  @doc """
  The Euler–Mascheroni constant γ, in a floating type.

  ## Examples

      iex> Nx.Constants.euler_gamma({:f, 64})
      #Nx.Tensor<
        f64
        0.5772156649015329
      >
  """
  @spec euler_gamma(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def euler_gamma(type \\ {:f, 32}, opts \\ []) do
    type = floating!(type, "euler_gamma/2")
    scalar(Nx.Type.euler_gamma_binary(type), type, opts)
  end

  @doc """
  The imaginary unit i, in a complex type.

  ## Examples

      iex> Nx.Constants.i()
      #Nx.Tensor<
        c64
        0.0+1.0i
      >

  ## Error cases

      iex> Nx.Constants.i({:f, 32})
      ** (ArgumentError) invalid type for complex number. Expected {:c, 64} or {:c, 128}, got: {:f, 32}
  """
  @spec i(Nx.Type.t() | atom, keyword) :: Nx.Tensor.t()
  def i(type \\ {:c, 64}, opts \\ []) do
    case Nx.Type.normalize!(type) do
      {:c, _} = type ->
        scalar(Nx.Shared.encode(Complex.new(0.0, 1.0), type), type, opts)

      other ->
        raise ArgumentError,
              "invalid type for complex number. Expected {:c, 64} or {:c, 128}, got: #{inspect(other)}"
    end
  end
end
