System.Console.WriteLine(TorchSharp.torch.randn(2,2).ToString(TorchSharp.TensorStringStyle.Julia));
