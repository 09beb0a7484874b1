namespace AlphaRl.Cli;

/// <summary>Which weights <c>predict</c> writes for a target step.</summary>
internal enum JumpMethod
{
    /// <summary>The paper's jump: per covered matrix, the rank-1 line x_t = s1 u1 against the step (the default).</summary>
    Rank1,

    /// <summary>W_e + (T − e)·b with b the per-weight least-squares slope over the window checkpoints.</summary>
    Velocity,

    /// <summary>W_e + (T − e)/(e − base)·(W_e − W0): the whole update's direction (ExPO's form).</summary>
    Direction,
}
