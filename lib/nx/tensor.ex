defmodule Nx.Tensor do
  @moduledoc """
  The tensor struct and the behaviours it implements.

  A tensor holds:

    * `:data` - the backend's own data (for example an `Nx.Torch.Backend` struct)
    * `:type` - the element type, such as `{:f, 32}` (see `Nx.Type`)
    * `:shape` - a tuple of non-negative integers
    * `:names` - a list of axis names (atoms or `nil`), one per axis
    * `:vectorized_axes` - a keyword list of vectorized axes and their sizes

  Users should not build this struct by hand: create tensors with the `Nx`
  functions and read its fields with `Nx.type/1`, `Nx.shape/1`, `Nx.names/1`.
  """

  @type data :: term()
  @type type :: Nx.Type.t()
  @type shape :: tuple()
  @type axis :: name | integer
  @type axes :: [axis]
  @type name :: atom

  @type t :: %Nx.Tensor{
          data: data,
          type: type,
          shape: shape,
          names: [name | nil],
          vectorized_axes: [{name, pos_integer}]
        }

  @type t(data) :: %Nx.Tensor{
          data: data,
          type: type,
          shape: shape,
          names: [name | nil],
          vectorized_axes: [{name, pos_integer}]
        }

  @enforce_keys [:type, :shape, :names]
  defstruct [:data, :type, :shape, :names, vectorized_axes: []]
end
