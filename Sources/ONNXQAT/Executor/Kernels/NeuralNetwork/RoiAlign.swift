import Foundation

/// RoiAlign (opsets 10, 16, 22): for each region of interest `rois[r] = (x1, y1, x2, y2)` (times
/// `spatial_scale`, minus 0.5 with coordinate_transformation_mode half_pixel, the default from
/// opset 16; opset 10 behaves as output_half_pixel and makes regions at least 1 x 1) on image
/// `batch_indices[r]` of X [N, C, H, W], an `output_height` x `output_width` grid of bins; each
/// bin averages (mode avg) or takes the maximum of (mode max, of the four weighted corner values
/// as ONNX's reference does) bilinear samples on a `sampling_ratio` grid (ceil(bin size) when 0).
/// Samples beyond one pixel outside the image count as 0. Float32 (double, float16 and
/// bfloat16 through float32).
enum RoiAlignKernel {
  /// Bilinear sample positions and weights of one sample.
  private struct Sample {
    var positions: (Int, Int, Int, Int) = (0, 0, 0, 0)
    var weights: (Float, Float, Float, Float) = (0, 0, 0, 0)
  }

  static func run(_ context: KernelContext) throws -> [HostTensor?] {
    let raw = try context.input(0)
    let x = try NeuralNetworkFloat.input(context, 0, "X")
    let rois = try NeuralNetworkFloat.input(context, 1, "rois")
    let batchIndices = try context.input(2)
    guard x.rank == 4, rois.rank == 2, rois.shape[1] == 4, batchIndices.count == rois.shape[0] else {
      throw context.failure(
        "inputs 'X' \(x.shape), 'rois' \(rois.shape), 'batch_indices' \(batchIndices.shape); expected [N, C, H, W], "
          + "[R, 4] and [R]")
    }
    let (batches, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let outH = context.int("output_height", default: 1)
    let outW = context.int("output_width", default: 1)
    let ratio = context.int("sampling_ratio", default: 0)
    let scale = context.float("spatial_scale", default: 1)
    let maxMode = context.string("mode", default: "avg") == "max"
    let halfPixel =
      context.opsetVersion >= 16
      && context.string("coordinate_transformation_mode", default: "half_pixel") == "half_pixel"
    guard outH > 0, outW > 0, ratio >= 0 else {
      throw context.failure(
        "output_height \(outH), output_width \(outW), sampling_ratio \(ratio); expected positive sizes")
    }
    let count = rois.shape[0]
    let result = HostTensor(zeros: .float, shape: [count, channels, outH, outW])
    let px = x.pointer(Float.self)
    let pr = rois.pointer(Float.self)
    let py = result.pointer(Float.self)
    let offset: Float = halfPixel ? 0.5 : 0
    guard height > 0, width > 0 else { return [NeuralNetworkFloat.output(result, as: raw.dataType)] }
    for r in 0..<count {
      let batch = Int(batchIndices.element(at: r))
      guard batch >= 0, batch < batches else {
        throw context.failure("batch_indices[\(r)] is \(batch); expected 0..<\(batches)")
      }
      let startW = pr[r * 4] * scale - offset
      let startH = pr[r * 4 + 1] * scale - offset
      var roiW = pr[r * 4 + 2] * scale - offset - startW
      var roiH = pr[r * 4 + 3] * scale - offset - startH
      if !halfPixel {
        roiW = max(roiW, 1)
        roiH = max(roiH, 1)
      }
      let binH = roiH / Float(outH)
      let binW = roiW / Float(outW)
      let gridH = ratio > 0 ? ratio : Int((roiH / Float(outH)).rounded(.up))
      let gridW = ratio > 0 ? ratio : Int((roiW / Float(outW)).rounded(.up))
      let samplesPerBin = max(gridH * gridW, 1)
      var samples: [Sample] = []
      samples.reserveCapacity(outH * outW * gridH * gridW)
      for ph in 0..<outH {
        for pw in 0..<outW {
          for iy in 0..<gridH {
            let yy = startH + Float(ph) * binH + (Float(iy) + 0.5) * binH / Float(gridH)
            for ix in 0..<gridW {
              let xx = startW + Float(pw) * binW + (Float(ix) + 0.5) * binW / Float(gridW)
              samples.append(sample(y: yy, x: xx, height: height, width: width))
            }
          }
        }
      }
      for c in 0..<channels {
        let image = px + (batch * channels + c) * height * width
        let target = py + (r * channels + c) * outH * outW
        var index = 0
        for bin in 0..<(outH * outW) {
          var value: Float = 0
          for s in 0..<(gridH * gridW) {
            let sample = samples[index]
            index += 1
            let (p1, p2, p3, p4) = sample.positions
            let (w1, w2, w3, w4) = sample.weights
            if maxMode {
              let candidate = max(w1 * image[p1], w2 * image[p2], w3 * image[p3], w4 * image[p4])
              value = s == 0 ? candidate : max(value, candidate)
            } else {
              value += w1 * image[p1] + w2 * image[p2] + w3 * image[p3] + w4 * image[p4]
            }
          }
          target[bin] = maxMode ? value : value / Float(samplesPerBin)
        }
      }
    }
    return [NeuralNetworkFloat.output(result, as: raw.dataType)]
  }

  private static func sample(y yy: Float, x xx: Float, height: Int, width: Int) -> Sample {
    if yy < -1 || yy > Float(height) || xx < -1 || xx > Float(width) { return Sample() }
    var y = max(yy, 0)
    var x = max(xx, 0)
    var yLow = Int(y)
    var xLow = Int(x)
    let yHigh: Int
    let xHigh: Int
    if yLow >= height - 1 {
      yLow = height - 1
      yHigh = yLow
      y = Float(yLow)
    } else {
      yHigh = yLow + 1
    }
    if xLow >= width - 1 {
      xLow = width - 1
      xHigh = xLow
      x = Float(xLow)
    } else {
      xHigh = xLow + 1
    }
    let ly = y - Float(yLow)
    let lx = x - Float(xLow)
    let hy = 1 - ly
    let hx = 1 - lx
    return Sample(
      positions: (yLow * width + xLow, yLow * width + xHigh, yHigh * width + xLow, yHigh * width + xHigh),
      weights: (hy * hx, hy * lx, ly * hx, ly * lx))
  }
}
