import Foundation

/// The batch-norm rules in the order a rule set should try them: the folds into a producer
/// first (the Add-into-bias fold among them, so that Conv -> Add(k) -> BatchNormalization folds
/// completely), and the decomposition into Mul and Add last, for what no fold took.
public enum BatchNormRules {
  public static let all: [RewriteRule] = [
    FoldAddIntoConvBias(),
    FoldBatchNormIntoConv(),
    FoldBatchNormIntoConvTranspose(),
    FoldBatchNormIntoGemm(),
    FoldBatchNormIntoMatMul(),
    DecomposeBatchNorm(),
  ]
}
