namespace AlphaRL; internal static class Placeholder {}
