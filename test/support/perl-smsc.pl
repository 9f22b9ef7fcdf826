#!/usr/bin/perl
# A test SMSC on a different SMPP implementation from the project's (Debian's Net::SMPP, Perl),
# behaving as real SMSCs do where they differ: message ids in hexadecimal or decimal, padded,
# in upper case, in the receipt's text or only in the receipted_message_id TLV; receipt states
# and the message_state TLV; ESME_RTHROTTLED / ESME_RMSGQFUL; generic_nack.
# Prints "port N" once listening, then "SUBMIT <id as answered> <destination> <text>" per
# accepted submit_sm. Options (all optional):
#   --resp-base hex|dec --resp-pad N --resp-upper   the id in submit_sm_resp
#   --dlr-base hex|dec --dlr-pad N --dlr-upper      the id in the receipt
#   --dlr-where text|tlv|both                       where the receipt names it
#   --stat WORD --state N                           receipt stat and message_state TLV
#   --throttle N --qfull N --nack N                 the first N submits of a connection answered
#                                                   ESME_RTHROTTLED, ESME_RMSGQFUL, generic_nack
use strict;
use warnings;
use Getopt::Long;
use Net::SMPP;
use POSIX qw(strftime);

$| = 1;
my %o = (
  'resp-base' => 'hex', 'resp-pad' => 0, 'resp-upper' => 0,
  'dlr-base' => 'hex', 'dlr-pad' => 0, 'dlr-upper' => 0, 'dlr-where' => 'text',
  stat => 'DELIVRD', state => -1, throttle => 0, qfull => 0, nack => 0,
);
GetOptions(\%o, 'resp-base=s', 'resp-pad=i', 'resp-upper', 'dlr-base=s', 'dlr-pad=i',
  'dlr-upper', 'dlr-where=s', 'stat=s', 'state=i', 'throttle=i', 'qfull=i', 'nack=i')
  or die "bad options\n";

my $listen = Net::SMPP->new_listen('127.0.0.1', port => 0, listen => 16) or die "listen: $!\n";
print 'port ', $listen->sockport, "\n";
$SIG{CHLD} = 'IGNORE';
$SIG{TERM} = sub { exit 0 };

sub write_id {
  my ($n, $base, $pad, $upper) = @_;
  my $s = $base eq 'hex' ? sprintf('%x', $n) : sprintf('%d', $n);
  $s = uc $s if $upper;
  $s = ('0' x ($pad - length $s)) . $s if $pad > length $s;
  return $s;
}

while (1) {
  my $smpp = $listen->accept or next;
  my $pid = fork;
  next if $pid;    # the parent goes on listening
  close $listen;
  serve($smpp);
  exit 0;
}

sub serve {
  my ($smpp) = @_;
  # Ids with letters in hexadecimal, distinct per connection.
  my $next = 0x1a2b0000 + ($$ % 4096) * 65536;
  my $submits = 0;
  while (my $pdu = $smpp->read_pdu) {
    my $cmd = $pdu->{cmd};
    if ($cmd == Net::SMPP::CMD_bind_transceiver) {
      $smpp->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'perlsmsc');
    } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
      $smpp->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_unbind) {
      $smpp->unbind_resp(seq => $pdu->{seq});
      return;
    } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
      $submits++;
      if ($submits <= $o{nack}) {
        $smpp->generic_nack(seq => $pdu->{seq}, status => 0x02);
        next;
      }
      if ($submits <= $o{nack} + $o{throttle}) {
        $smpp->submit_sm_resp(seq => $pdu->{seq}, status => 0x58, message_id => '');
        next;
      }
      if ($submits <= $o{nack} + $o{throttle} + $o{qfull}) {
        $smpp->submit_sm_resp(seq => $pdu->{seq}, status => 0x14, message_id => '');
        next;
      }
      my $n = $next++;
      my $rid = write_id($n, $o{'resp-base'}, $o{'resp-pad'}, $o{'resp-upper'});
      $smpp->submit_sm_resp(seq => $pdu->{seq}, message_id => $rid);
      my $text = $pdu->{short_message} // '';
      print "SUBMIT $rid $pdu->{destination_addr} $text\n";
      my $did = write_id($n, $o{'dlr-base'}, $o{'dlr-pad'}, $o{'dlr-upper'});
      my $date = strftime('%y%m%d%H%M', gmtime);
      my $body = ($o{'dlr-where'} eq 'tlv' ? '' : "id:$did ")
        . "sub:001 dlvrd:001 submit date:$date done date:$date stat:$o{stat} err:000 text:"
        . substr($text, 0, 20);
      my @tlv;
      push @tlv, receipted_message_id => "$did\0" if $o{'dlr-where'} ne 'text';
      push @tlv, message_state => pack('C', $o{state}) if $o{state} >= 0;
      $smpp->deliver_sm(
        source_addr => $pdu->{destination_addr},
        destination_addr => $pdu->{source_addr},
        esm_class => 0x04,
        short_message => $body,
        @tlv,
        async => 1,
      );
    }
    # deliver_sm_resp and anything else: nothing to do.
  }
}
