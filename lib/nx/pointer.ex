defmodule Nx.Pointer do
  @moduledoc """
  A reference to tensor data in memory, returned by `Nx.to_pointer/2` and
  given to `Nx.from_pointer/5`.

    * `:kind` - `:local` (an address in this OS process) or `:ipc` (a handle
      another process can open; no backend of this project produces one)
    * `:address` - the address, for `:local` pointers
    * `:data_size` - the size of the data in bytes
    * `:handle` - the IPC handle, for `:ipc` pointers

  ## Examples

      iex> %Nx.Pointer{kind: :local, address: 4096, data_size: 16}.data_size
      16
  """

  @type t :: %Nx.Pointer{
          address: nil | non_neg_integer(),
          kind: :local | :ipc,
          data_size: pos_integer(),
          handle: nil | binary()
        }

  defstruct [:address, :kind, :data_size, :handle]
end
