namespace AlphaRL.TorchSharp; internal static class Placeholder {}
